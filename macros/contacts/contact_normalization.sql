{#- Normalisation and validity of contact data for the export layer (models/exports). Every
    rule is a macro so that the suppression list is normalised exactly like the member list. -#}

{#- Characters that hide in copied addresses and defeat matching: zero-width space, non-joiner
    and joiner, word joiner, byte-order mark, no-break space. -#}
{% macro invisible_characters_pattern() -%}
    [​‌‍⁠﻿ ]
{%- endmacro %}

{#- Full-width ASCII letters, digits and the signs of an address (ａ, Ａ, ０, ＠, ．, －, ＿, ＋)
    turned half-width: Japanese input methods type them. -#}
{% macro half_width_ascii(expression) -%}
    {%- set full = 'ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９＠．－＿＋' -%}
    {%- set half = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.-_+' -%}
    translate({{ expression }}, '{{ full }}', '{{ half }}')
{%- endmacro %}

{#- An e-mail address as a key: full-width letters and signs half-width (＠ → @), invisible
    characters (zero-width space, no-break space ...) and surrounding spaces removed,
    lower-cased; null when empty. -#}
{% macro normalized_email(expression) -%}
    nullif(lower(trim({{ regexp_replace_all(half_width_ascii(expression), invisible_characters_pattern(), '') }})), '')
{%- endmacro %}

{#- A sane e-mail address: one @, a non-empty local part, a domain of dot-separated non-empty
    labels with at least one dot, no whitespace anywhere. -#}
{% macro is_valid_email(normalized) -%}
    coalesce({{ regexp_full_match(normalized, '[^@[:space:]]+@[^@[:space:].]+([.][^@[:space:].]+)+') }}, false)
{%- endmacro %}

{#- A Japanese phone number in E.164: full-width digits and plus sign turned half-width, every
    character other than digits and + dropped (hyphens, spaces, brackets, invisible ones); a
    domestic number (leading 0) becomes +81 without the 0; +81 is kept (a trunk 0 written after
    +81 is dropped); 81 without the + (as SMS tools export E.164) and the international prefix
    0081 count as +81; anything else (another country, no prefix) is null. `digits` is a
    column of phone_digits (the macro reads it several times). -#}
{% macro phone_e164_jp(digits) -%}
    {%- set national_start -%}
        case
            when {{ digits }} like '+810%' then 5
            when {{ digits }} like '+81%' then 4
            when {{ digits }} like '00810%' then 6
            when {{ digits }} like '0081%' then 5
            when {{ digits }} like '810%' and {{ dbt.length(digits) }} between 11 and 13 then 4
            when {{ digits }} like '81%' and {{ dbt.length(digits) }} between 11 and 12 then 3
            when {{ digits }} like '0%' and {{ digits }} not like '00%' then 2
        end
    {%- endset -%}
    {{ dbt.concat(["'+81'", "substring(" ~ digits ~ ", " ~ national_start ~ ")"]) }}
{%- endmacro %}

{#- A phone number's digits and plus signs only: full-width digits and ＋ made half-width,
    everything else (hyphens, spaces, brackets, invisible characters) dropped. Computed once
    per row in a CTE, then read by phone_e164_jp. -#}
{% macro phone_digits(expression) -%}
    {{ regexp_replace_all("replace(" ~ half_width_digits(expression) ~ ", '＋', '+')", '[^0-9+]', '') }}
{%- endmacro %}

{#- E.164: + and 8-15 digits (no leading 0); for Japan (+81) the national number has 9-10
    digits, and mobile / IP-phone numbers (70, 80, 90, 50 ...) exactly 10. -#}
{% macro is_valid_phone_e164(phone) -%}
    coalesce(
        {{ regexp_full_match(phone, '[+][1-9][0-9]{7,14}') }}
        and (
            {{ phone }} not like '+81%'
            or {{ regexp_full_match(phone, '[+]81[1-9][0-9]{8,9}') }}
            and not (
                {{ regexp_full_match(phone, '[+]81[5789]0[0-9]*') }}
                and {{ dbt.length(phone) }} <> 13
            )
        ),
        false
    )
{%- endmacro %}

{#- A Japanese postal code as NNN-NNNN: full-width digits turned half-width, the 〒 mark,
    hyphens and spaces dropped; null unless exactly 7 digits remain. -#}
{% macro postal_code_jp(expression) -%}
    {%- set digits = regexp_replace_all(half_width_digits(expression), '[^0-9]', '') -%}
    case
        when {{ regexp_full_match(digits, '[0-9]{7}') }}
            then {{ dbt.concat(["substring(" ~ digits ~ ", 1, 3)", "'-'", "substring(" ~ digits ~ ", 4, 4)"]) }}
    end
{%- endmacro %}

{#- An address part for comparison: full-width digits half-width, all whitespace (including
    the full-width space) removed, dash variants made one hyphen, lower-cased. -#}
{% macro address_key_part(expression) -%}
    {%- set cleaned = "replace(replace(replace(" ~ half_width_digits(expression)
        ~ ", '　', ''), '－', '-'), 'ー', '-')" -%}
    lower({{ regexp_replace_all(cleaned, '[[:space:]]', '') }})
{%- endmacro %}

{#- A postal address as a key, from free text ("〒150-0001 東京都渋谷区神宮前1-2-3 101") or from the
    member's parts: the 〒 mark and a leading postal code dropped, then as address_key_part
    (digits half-width, every space removed, dashes one hyphen). A suppression written as a
    postal address matches the member whose prefecture, city and address lines read the same.
    -#}
{% macro postal_address_key(expression) -%}
    {%- set cleaned = "replace(replace(replace(replace(" ~ half_width_digits(expression)
        ~ ", '〒', ''), '　', ''), '－', '-'), 'ー', '-')" -%}
    {%- set without_code = regexp_replace_all(cleaned, '^[[:space:]]*[0-9]{3}-?[0-9]{4}', '') -%}
    nullif(lower({{ regexp_replace_all(without_code, '[[:space:]]', '') }}), '')
{%- endmacro %}
