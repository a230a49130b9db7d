"""The product catalogue: ten categories, a dozen brands, a few hundred SKUs with Japanese names.

SKUs are sorted by category; sampling uses inverse-CDF tables (one random integer and one
lookup per draw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from crm.demo.columns import draw_from, inverse_cdf_table

#: SKUs per category (10 categories → 300 SKUs).
SKUS_PER_CATEGORY = 30
#: Zipf exponent of product popularity within a category.
POPULARITY_EXPONENT = 1.1
#: Sigma of the lognormal price around the category median.
PRICE_SIGMA = 0.45


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    code: str
    weight: float
    median_price: int
    items: tuple[str, ...]
    variants: tuple[str, ...]
    brands: tuple[str, ...]
    #: Sold as 定期購入 (subscription) products.
    subscribable: bool = False
    #: Demand multiplier in the gift seasons (July お中元, December お歳暮).
    gift_season_factor: float = 1.0
    #: Share of the category's orders that get returned is raised for fashion.
    fashion: bool = False


CATEGORIES: tuple[Category, ...] = (
    Category("スキンケア", "skincare", "SK", 0.18, 2800,
             ("化粧水", "乳液", "美容液", "クレンジングオイル", "洗顔フォーム", "保湿クリーム",
              "日焼け止め", "フェイスマスク", "アイクリーム", "オールインワンジェル"),
             ("トライアルサイズ", "レギュラー", "詰め替え用", "お徳用"),
             ("ナチュラルラボ", "肌潤堂", "ルミナス"), subscribable=True),
    Category("ヘアケア", "haircare", "HC", 0.10, 1980,
             ("シャンプー", "コンディショナー", "ヘアオイル", "ヘアマスク", "スカルプエッセンス",
              "ヘアミスト", "トリートメント", "ドライシャンプー"),
             ("300mL", "500mL", "詰め替え用", "本体+詰め替えセット"),
             ("ボタニカルリペア", "髪艶屋", "ナチュラルラボ")),
    Category("サプリメント", "supplement", "SP", 0.14, 3200,
             ("マルチビタミン", "青汁", "乳酸菌サプリ", "コラーゲン", "DHA・EPA", "鉄分サプリ",
              "プロテイン", "グルコサミン", "ビタミンC", "ルテイン"),
             ("30日分", "60日分", "90日分", "お試し7日分"),
             ("ヘルシーライフ", "和漢の森", "ルミナス"), subscribable=True),
    Category("食品", "food", "FD", 0.14, 1500,
             ("国産はちみつ", "無添加だし", "玄米", "有機味噌", "ドライフルーツ", "ミックスナッツ",
              "グラノーラ", "紀州梅干し", "手延べそうめん", "黒酢"),
             ("小袋", "500g", "1kg", "お徳用"),
             ("匠の台所", "有機ファーム", "四季彩"), subscribable=True, gift_season_factor=1.4),
    Category("飲料", "beverage", "BV", 0.10, 2400,
             ("緑茶ティーバッグ", "ほうじ茶", "ルイボスティー", "炭酸水", "野菜ジュース",
              "ドリップコーヒー", "甘酒", "ミネラルウォーター"),
             ("1箱", "2箱セット", "24本入", "48本入"),
             ("茶葉工房", "有機ファーム", "匠の台所"), subscribable=True),
    Category("日用品", "daily", "DG", 0.10, 780,
             ("洗濯洗剤", "柔軟剤", "食器用洗剤", "ハンドソープ", "除菌シート", "歯ブラシ",
              "入浴剤", "ゴミ袋"),
             ("本体", "詰め替え用", "大容量", "3個パック"),
             ("くらしエコ", "クリーンホーム")),
    Category("ファッション", "fashion", "FA", 0.07, 3900,
             ("ルームウェア", "ストール", "ソックス3足組", "トートバッグ", "カーディガン",
              "レギンス", "エコバッグ", "ニット帽"),
             ("ネイビー", "ベージュ", "グレー", "ブラック"),
             ("コットンデイズ", "ワフウ"), fashion=True),
    Category("インテリア", "interior", "IN", 0.05, 4800,
             ("ルームフレグランス", "クッションカバー", "今治タオル", "収納ボックス",
              "アロマディフューザー", "ブランケット", "ランチョンマット", "フロアマット"),
             ("Sサイズ", "Mサイズ", "Lサイズ", "2点セット"),
             ("モクメ", "ワフウ", "コットンデイズ")),
    Category("ギフト", "gift", "GF", 0.05, 3800,
             ("ギフトセット", "スイーツ詰め合わせ", "焼き菓子ギフト", "紅茶ギフト",
              "内祝いカタログ", "出産内祝いセット", "フルーツゼリー詰め合わせ",
              "名入れタオルギフト"),
             ("Aセット", "Bセット", "Cセット", "プレミアム"),
             ("四季彩", "匠の台所", "茶葉工房"), gift_season_factor=4.0),
    Category("ベビー", "baby", "BB", 0.07, 1800,
             ("ベビーローション", "おしりふき", "離乳食セット", "ベビー肌着", "ベビーソープ",
              "授乳クッション", "保湿バーム", "スタイ"),
             ("単品", "2個セット", "3個セット", "お徳用"),
             ("すくすく", "コットンデイズ", "ナチュラルラボ")),
)  # fmt: skip

#: Months of the gift seasons (お中元 July, お歳暮 December).
GIFT_MONTHS: tuple[int, ...] = (7, 12)


def nice_price(raw: np.ndarray) -> np.ndarray:
    """Round raw prices to shop-like prices (498, 1,280, 2,980...)."""
    raw = np.maximum(raw, 200.0)
    small = np.round(raw / 10) * 10 - 2
    large = np.round(raw / 100) * 100 - 20
    return np.where(raw < 1000, small, large).astype(np.int64)


@dataclass(frozen=True)
class Catalogue:
    """Columnar product master; index ``i`` is one SKU."""

    sku: pa.Array
    name: pa.Array
    brand: pa.Array
    category: pa.Array
    category_idx: np.ndarray
    price: np.ndarray
    sku_tables: np.ndarray  # per category: inverse-CDF table of SKU indexes
    category_table: np.ndarray  # normal months
    category_table_gift: np.ndarray  # gift-season months
    popularity_table: np.ndarray  # over all SKUs (for browsing)
    subscribable: np.ndarray  # SKU indexes sold as subscriptions
    is_fashion: np.ndarray  # bool per SKU

    @property
    def size(self) -> int:
        return len(self.price)

    def sample_category(self, rng: np.random.Generator, gift_season: np.ndarray) -> np.ndarray:
        """Categories by demand share (gift season: more ギフト and 食品)."""
        u = rng.integers(0, len(self.category_table), len(gift_season), dtype=np.uint16)
        return np.where(gift_season, self.category_table_gift[u], self.category_table[u])

    def sample_sku_in(self, rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
        """A SKU of each given category, by popularity."""
        u = rng.integers(0, self.sku_tables.shape[1], len(category), dtype=np.uint16)
        return self.sku_tables[category, u]

    def sample_any(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """SKUs by overall popularity."""
        return draw_from(rng, self.popularity_table, n)


def build_catalogue(seed: int) -> Catalogue:
    """The catalogue of a shop; depends on the seed only (same for every chunk)."""
    rng = np.random.default_rng([seed, 7_001])
    skus: list[str] = []
    names: list[str] = []
    brands: list[str] = []
    cats: list[str] = []
    raw_prices: list[np.ndarray] = []
    sku_tables: list[np.ndarray] = []
    pop_all: list[np.ndarray] = []
    fashion: list[bool] = []
    n = SKUS_PER_CATEGORY
    for c, cat in enumerate(CATEGORIES):
        brand_idx = rng.integers(0, len(cat.brands), n)
        for k in range(n):  # per SKU (300), not per row
            item = cat.items[k % len(cat.items)]
            variant = cat.variants[(k // len(cat.items)) % len(cat.variants)]
            brand = cat.brands[brand_idx[k]]
            skus.append(f"{cat.code}-{c * 100 + k + 1:04d}")
            names.append(f"{brand} {item} {variant}")
            brands.append(brand)
            cats.append(cat.name)
            fashion.append(cat.fashion)
        raw_prices.append(cat.median_price * rng.lognormal(0.0, PRICE_SIGMA, n))
        pop = 1.0 / rng.permutation(np.arange(1, n + 1)) ** POPULARITY_EXPONENT
        sku_tables.append(c * n + inverse_cdf_table(pop))
        pop_all.append(pop / pop.sum() * cat.weight)
    weights = np.array([c.weight for c in CATEGORIES])
    gift_weights = weights * np.array([c.gift_season_factor for c in CATEGORIES])
    pop_concat = np.concatenate(pop_all)
    category_idx = np.repeat(np.arange(len(CATEGORIES)), n)
    subscribable_cats = [i for i, c in enumerate(CATEGORIES) if c.subscribable]
    return Catalogue(
        sku=pa.array(skus, pa.string()),
        name=pa.array(names, pa.string()),
        brand=pa.array(brands, pa.string()),
        category=pa.array(cats, pa.string()),
        category_idx=category_idx,
        price=nice_price(np.concatenate(raw_prices)),
        sku_tables=np.stack(sku_tables),
        category_table=inverse_cdf_table(weights),
        category_table_gift=inverse_cdf_table(gift_weights),
        popularity_table=inverse_cdf_table(pop_concat),
        subscribable=np.flatnonzero(np.isin(category_idx, subscribable_cats)),
        is_fashion=np.array(fashion),
    )
