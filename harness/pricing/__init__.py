"""Userspace pricing: a LiteLLM-format price table, its loader, and exact cost math.

Cost is policy, so it lives here and never in the substrate: a harness prices each call with
:func:`apply_price` and appends the priced ``UsageRecord``; the store keeps it verbatim.

    table = load_prices()                      # path/URL, cache, fetch, stale cache, genai-prices
    usage = apply_price(usage, table)          # cost_usd + pricing="litellm:<digest>"
    usage.pricing                              # or "unpriced:model_not_found", ...
"""

from ._cost import INVALID_USAGE as INVALID_USAGE
from ._cost import MODEL_NOT_FOUND as MODEL_NOT_FOUND
from ._cost import NO_INPUT_PRICE as NO_INPUT_PRICE
from ._cost import NO_OUTPUT_PRICE as NO_OUTPUT_PRICE
from ._cost import TABLE_UNAVAILABLE as TABLE_UNAVAILABLE
from ._cost import Charge as Charge
from ._cost import Priced as Priced
from ._cost import apply_price as apply_price
from ._cost import charge as charge
from ._cost import price as price
from ._genai import table_from_genai_prices as table_from_genai_prices
from ._loader import DEFAULT_FETCH_TIMEOUT as DEFAULT_FETCH_TIMEOUT
from ._loader import LITELLM_PRICES_URL as LITELLM_PRICES_URL
from ._loader import PATH_ENV as PATH_ENV
from ._loader import URL_ENV as URL_ENV
from ._loader import default_cache_dir as default_cache_dir
from ._loader import load_prices as load_prices
from ._loader import read_prices as read_prices
from ._loader import update_prices as update_prices
from ._rates import ModelPrice as ModelPrice
from ._rates import RateCard as RateCard
from ._rates import Rates as Rates
from ._rates import service_tier_of as service_tier_of
from ._reported import apply_reported_cost as apply_reported_cost
from ._table import PriceTable as PriceTable
from ._table import PriceTableError as PriceTableError

__all__ = (
    "DEFAULT_FETCH_TIMEOUT",
    "INVALID_USAGE",
    "LITELLM_PRICES_URL",
    "MODEL_NOT_FOUND",
    "NO_INPUT_PRICE",
    "NO_OUTPUT_PRICE",
    "PATH_ENV",
    "TABLE_UNAVAILABLE",
    "URL_ENV",
    "Charge",
    "ModelPrice",
    "PriceTable",
    "PriceTableError",
    "Priced",
    "RateCard",
    "Rates",
    "apply_price",
    "apply_reported_cost",
    "charge",
    "default_cache_dir",
    "load_prices",
    "price",
    "read_prices",
    "service_tier_of",
    "table_from_genai_prices",
    "update_prices",
)
