"""A deterministic, vectorised synthetic Japanese EC shop that writes landing files.

``generate_shop(out_dir, customers=..., days=..., end_date=..., seed=..., file_format=...,
daily_tail_days=...)`` writes every feed of the landing contract (see ``crm.contract``);
``python -m crm.demo.cli --help`` is the command line.
"""

from crm.demo.generator import ShopSummary, generate_shop
from crm.demo.params import ShopParams

__all__ = ["ShopParams", "ShopSummary", "generate_shop"]
