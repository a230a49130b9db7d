"""Audience exports: the reachable, consenting members of each audience as files per channel.

``discover_audiences`` reads the audiences from the dbt manifest; ``export_audience`` applies
the channel filters, splits off the holdout group, writes the files and their manifest
atomically and records the export history. See the README section "Exports".
"""

from crm.exports.audiences import Audience, AudienceConfigError, discover_audiences
from crm.exports.channels import CHANNELS, Channel
from crm.exports.export import ExportOptions, ExportResult, export_audience

__all__ = [
    "CHANNELS",
    "Audience",
    "AudienceConfigError",
    "Channel",
    "ExportOptions",
    "ExportResult",
    "discover_audiences",
    "export_audience",
]
