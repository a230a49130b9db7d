"""Japanese vocabulary for the demo shop: names, places, e-mail domains, user agents.

Every string here must be encodable in CP932 (the members file is written in CP932); a test
checks it. Weights are rough real-world shares, good enough to make the data look familiar.
"""

from __future__ import annotations

#: (kanji, katakana, romaji) of common family names, most common first.
FAMILY_NAMES: tuple[tuple[str, str, str], ...] = (
    ("佐藤", "サトウ", "sato"), ("鈴木", "スズキ", "suzuki"), ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"), ("伊藤", "イトウ", "ito"), ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"), ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"), ("加藤", "カトウ", "kato"), ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"), ("佐々木", "ササキ", "sasaki"), ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"), ("井上", "イノウエ", "inoue"), ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"), ("斎藤", "サイトウ", "saito"), ("清水", "シミズ", "shimizu"),
    ("山崎", "ヤマザキ", "yamazaki"), ("森", "モリ", "mori"), ("池田", "イケダ", "ikeda"),
    ("橋本", "ハシモト", "hashimoto"), ("阿部", "アベ", "abe"), ("石川", "イシカワ", "ishikawa"),
    ("山下", "ヤマシタ", "yamashita"), ("中島", "ナカジマ", "nakajima"), ("石井", "イシイ", "ishii"),
    ("小川", "オガワ", "ogawa"), ("前田", "マエダ", "maeda"), ("岡田", "オカダ", "okada"),
    ("長谷川", "ハセガワ", "hasegawa"), ("藤田", "フジタ", "fujita"), ("後藤", "ゴトウ", "goto"),
    ("近藤", "コンドウ", "kondo"), ("村上", "ムラカミ", "murakami"), ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"), ("坂本", "サカモト", "sakamoto"), ("斉藤", "サイトウ", "saito"),
    ("福田", "フクダ", "fukuda"), ("太田", "オオタ", "ota"), ("西村", "ニシムラ", "nishimura"),
    ("藤井", "フジイ", "fujii"), ("金子", "カネコ", "kaneko"), ("岡本", "オカモト", "okamoto"),
    ("藤原", "フジワラ", "fujiwara"), ("中野", "ナカノ", "nakano"), ("三浦", "ミウラ", "miura"),
    ("原田", "ハラダ", "harada"), ("中川", "ナカガワ", "nakagawa"), ("松田", "マツダ", "matsuda"),
    ("竹内", "タケウチ", "takeuchi"), ("小野", "オノ", "ono"), ("田村", "タムラ", "tamura"),
    ("中山", "ナカヤマ", "nakayama"), ("和田", "ワダ", "wada"), ("石田", "イシダ", "ishida"),
    ("森田", "モリタ", "morita"), ("上田", "ウエダ", "ueda"), ("原", "ハラ", "hara"),
    ("内田", "ウチダ", "uchida"), ("柴田", "シバタ", "shibata"), ("酒井", "サカイ", "sakai"),
    ("宮崎", "ミヤザキ", "miyazaki"), ("横山", "ヨコヤマ", "yokoyama"), ("高木", "タカギ", "takagi"),
    ("安藤", "アンドウ", "ando"), ("宮本", "ミヤモト", "miyamoto"), ("大野", "オオノ", "ohno"),
    ("小島", "コジマ", "kojima"), ("谷口", "タニグチ", "taniguchi"), ("今井", "イマイ", "imai"),
    ("工藤", "クドウ", "kudo"), ("高田", "タカダ", "takada"), ("増田", "マスダ", "masuda"),
    ("丸山", "マルヤマ", "maruyama"), ("杉山", "スギヤマ", "sugiyama"), ("村田", "ムラタ", "murata"),
    ("大塚", "オオツカ", "otsuka"), ("新井", "アライ", "arai"), ("小山", "コヤマ", "koyama"),
    ("平野", "ヒラノ", "hirano"), ("藤本", "フジモト", "fujimoto"), ("河野", "コウノ", "kono"),
    ("上野", "ウエノ", "ueno"), ("野口", "ノグチ", "noguchi"), ("武田", "タケダ", "takeda"),
    ("松井", "マツイ", "matsui"), ("千葉", "チバ", "chiba"), ("岩崎", "イワサキ", "iwasaki"),
    ("菅原", "スガワラ", "sugawara"), ("木下", "キノシタ", "kinoshita"), ("久保", "クボ", "kubo"),
    ("佐野", "サノ", "sano"), ("野村", "ノムラ", "nomura"), ("松尾", "マツオ", "matsuo"),
    ("菊地", "キクチ", "kikuchi"), ("杉本", "スギモト", "sugimoto"), ("渡部", "ワタナベ", "watanabe"),
)

#: (kanji, katakana, romaji) of female given names.
FEMALE_GIVEN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("陽子", "ヨウコ", "yoko"), ("恵子", "ケイコ", "keiko"), ("京子", "キョウコ", "kyoko"),
    ("幸子", "サチコ", "sachiko"), ("和子", "カズコ", "kazuko"), ("美穂", "ミホ", "miho"),
    ("真由美", "マユミ", "mayumi"), ("裕子", "ユウコ", "yuko"), ("直美", "ナオミ", "naomi"),
    ("智子", "トモコ", "tomoko"), ("久美子", "クミコ", "kumiko"), ("由美子", "ユミコ", "yumiko"),
    ("明美", "アケミ", "akemi"), ("恵美", "エミ", "emi"), ("愛", "アイ", "ai"), ("彩", "アヤ", "aya"),
    ("舞", "マイ", "mai"), ("美咲", "ミサキ", "misaki"), ("麻衣", "マイ", "mai"),
    ("千尋", "チヒロ", "chihiro"), ("優子", "ユウコ", "yuko"), ("香織", "カオリ", "kaori"),
    ("沙織", "サオリ", "saori"), ("奈々", "ナナ", "nana"), ("友美", "トモミ", "tomomi"),
    ("由佳", "ユカ", "yuka"), ("綾香", "アヤカ", "ayaka"), ("早紀", "サキ", "saki"),
    ("結衣", "ユイ", "yui"), ("陽菜", "ヒナ", "hina"), ("さくら", "サクラ", "sakura"),
    ("美月", "ミヅキ", "mizuki"), ("葵", "アオイ", "aoi"), ("凛", "リン", "rin"),
    ("花子", "ハナコ", "hanako"), ("真理", "マリ", "mari"), ("純子", "ジュンコ", "junko"),
    ("理恵", "リエ", "rie"), ("亜希子", "アキコ", "akiko"), ("麻美", "アサミ", "asami"),
    ("里美", "サトミ", "satomi"), ("紀子", "ノリコ", "noriko"), ("美香", "ミカ", "mika"),
    ("由紀", "ユキ", "yuki"), ("瞳", "ヒトミ", "hitomi"), ("桃子", "モモコ", "momoko"),
    ("遥", "ハルカ", "haruka"), ("めぐみ", "メグミ", "megumi"), ("千代子", "チヨコ", "chiyoko"),
)

#: (kanji, katakana, romaji) of male given names.
MALE_GIVEN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("太郎", "タロウ", "taro"), ("一郎", "イチロウ", "ichiro"), ("健", "ケン", "ken"),
    ("誠", "マコト", "makoto"), ("浩", "ヒロシ", "hiroshi"), ("隆", "タカシ", "takashi"),
    ("大輔", "ダイスケ", "daisuke"), ("翔太", "ショウタ", "shota"), ("拓也", "タクヤ", "takuya"),
    ("健太", "ケンタ", "kenta"), ("直樹", "ナオキ", "naoki"), ("和也", "カズヤ", "kazuya"),
    ("達也", "タツヤ", "tatsuya"), ("哲也", "テツヤ", "tetsuya"), ("修", "オサム", "osamu"),
    ("勇気", "ユウキ", "yuki"), ("亮", "リョウ", "ryo"), ("悠斗", "ユウト", "yuto"),
    ("蓮", "レン", "ren"), ("大翔", "ヒロト", "hiroto"), ("陽翔", "ハルト", "haruto"),
    ("湊", "ミナト", "minato"), ("悠真", "ユウマ", "yuma"), ("翔", "ショウ", "sho"),
    ("雄一", "ユウイチ", "yuichi"), ("正樹", "マサキ", "masaki"), ("秀樹", "ヒデキ", "hideki"),
    ("博", "ヒロシ", "hiroshi"), ("清", "キヨシ", "kiyoshi"), ("実", "ミノル", "minoru"),
    ("茂", "シゲル", "shigeru"), ("明", "アキラ", "akira"), ("聡", "サトシ", "satoshi"),
    ("剛", "ツヨシ", "tsuyoshi"), ("学", "マナブ", "manabu"), ("浩二", "コウジ", "koji"),
    ("健一", "ケンイチ", "kenichi"), ("洋平", "ヨウヘイ", "yohei"), ("俊介", "シュンスケ", "shunsuke"),
    ("康介", "コウスケ", "kosuke"), ("慎也", "シンヤ", "shinya"), ("智也", "トモヤ", "tomoya"),
    ("裕太", "ユウタ", "yuta"), ("雅人", "マサト", "masato"), ("和彦", "カズヒコ", "kazuhiko"),
    ("純一", "ジュンイチ", "junichi"), ("光太郎", "コウタロウ", "kotaro"), ("大樹", "ダイキ", "daiki"),
)

#: (prefecture, population in 10,000s (2020 census, rounded), first three postal digits range
#: (inclusive), cities/wards).
PREFECTURES: tuple[tuple[str, int, tuple[int, int], tuple[str, ...]], ...] = (
    ("北海道", 522, (40, 99), ("札幌市中央区", "札幌市北区", "旭川市", "函館市")),
    ("青森県", 124, (30, 39), ("青森市", "八戸市", "弘前市")),
    ("岩手県", 121, (20, 29), ("盛岡市", "一関市", "奥州市")),
    ("宮城県", 230, (980, 989), ("仙台市青葉区", "仙台市泉区", "石巻市")),
    ("秋田県", 96, (10, 19), ("秋田市", "横手市")),
    ("山形県", 107, (990, 999), ("山形市", "鶴岡市", "酒田市")),
    ("福島県", 183, (960, 979), ("郡山市", "いわき市", "福島市")),
    ("茨城県", 287, (300, 319), ("水戸市", "つくば市", "日立市")),
    ("栃木県", 193, (320, 329), ("宇都宮市", "小山市", "足利市")),
    ("群馬県", 194, (370, 379), ("高崎市", "前橋市", "太田市")),
    ("埼玉県", 734, (330, 369), ("さいたま市浦和区", "さいたま市大宮区", "川口市", "川越市",
                                "所沢市", "越谷市")),
    ("千葉県", 628, (260, 299), ("千葉市中央区", "船橋市", "松戸市", "市川市", "柏市")),
    ("東京都", 1405, (100, 208), ("世田谷区", "練馬区", "大田区", "江戸川区", "足立区", "杉並区",
                                 "板橋区", "八王子市", "町田市", "新宿区", "渋谷区", "港区")),
    ("神奈川県", 924, (210, 259), ("横浜市港北区", "横浜市青葉区", "川崎市中原区",
                                  "相模原市中央区", "藤沢市", "横須賀市")),
    ("新潟県", 220, (940, 959), ("新潟市中央区", "長岡市", "上越市")),
    ("富山県", 103, (930, 939), ("富山市", "高岡市")),
    ("石川県", 113, (920, 929), ("金沢市", "白山市")),
    ("福井県", 77, (910, 919), ("福井市", "坂井市")),
    ("山梨県", 81, (400, 409), ("甲府市", "甲斐市")),
    ("長野県", 205, (380, 399), ("長野市", "松本市", "上田市")),
    ("岐阜県", 198, (500, 509), ("岐阜市", "大垣市", "各務原市")),
    ("静岡県", 363, (410, 439), ("浜松市中央区", "静岡市葵区", "富士市", "沼津市")),
    ("愛知県", 754, (440, 499), ("名古屋市中区", "名古屋市千種区", "豊田市", "岡崎市", "一宮市")),
    ("三重県", 177, (510, 519), ("四日市市", "津市", "鈴鹿市")),
    ("滋賀県", 141, (520, 529), ("大津市", "草津市")),
    ("京都府", 258, (600, 629), ("京都市左京区", "京都市伏見区", "宇治市")),
    ("大阪府", 884, (530, 599), ("大阪市北区", "大阪市中央区", "堺市堺区", "豊中市", "吹田市",
                                "東大阪市")),
    ("兵庫県", 547, (650, 679), ("神戸市中央区", "姫路市", "西宮市", "尼崎市")),
    ("奈良県", 132, (630, 639), ("奈良市", "橿原市")),
    ("和歌山県", 92, (640, 649), ("和歌山市", "田辺市")),
    ("鳥取県", 55, (680, 689), ("鳥取市", "米子市")),
    ("島根県", 67, (690, 699), ("松江市", "出雲市")),
    ("岡山県", 189, (700, 719), ("岡山市北区", "倉敷市")),
    ("広島県", 280, (720, 739), ("広島市中区", "福山市", "呉市")),
    ("山口県", 134, (740, 759), ("下関市", "山口市", "宇部市")),
    ("徳島県", 72, (770, 779), ("徳島市", "阿南市")),
    ("香川県", 95, (760, 769), ("高松市", "丸亀市")),
    ("愛媛県", 133, (790, 799), ("松山市", "今治市")),
    ("高知県", 69, (780, 789), ("高知市", "南国市")),
    ("福岡県", 514, (800, 839), ("福岡市中央区", "福岡市博多区", "北九州市小倉北区", "久留米市")),
    ("佐賀県", 81, (840, 849), ("佐賀市", "唐津市")),
    ("長崎県", 131, (850, 859), ("長崎市", "佐世保市")),
    ("熊本県", 174, (860, 869), ("熊本市中央区", "八代市")),
    ("大分県", 112, (870, 879), ("大分市", "別府市")),
    ("宮崎県", 107, (880, 889), ("宮崎市", "都城市")),
    ("鹿児島県", 159, (890, 899), ("鹿児島市", "霧島市")),
    ("沖縄県", 147, (900, 909), ("那覇市", "沖縄市", "うるま市")),
)

#: 町名 used in address_line1 (followed by 丁目-番地-号 as ``2-14-7``).
TOWNS: tuple[str, ...] = (
    "本町", "中央", "栄町", "緑町", "旭町", "若葉町", "桜町", "東町", "西町", "南町", "北町",
    "新町", "大町", "駅前", "元町", "昭和町", "幸町", "松原", "富士見", "青葉台", "花園",
    "寿町", "宮前", "柳町", "港町",
)

#: Building name parts for address_line2 (e.g. ``グリーンハイツ 203``).
BUILDING_PREFIXES: tuple[str, ...] = (
    "グリーン", "サン", "パーク", "リバー", "ロイヤル", "ベル", "エクセル", "クレスト", "アーバン",
    "フォレスト",
)
BUILDING_SUFFIXES: tuple[str, ...] = (
    "ハイツ", "コーポ", "メゾン", "レジデンス", "マンション", "ハイム", "テラス", "ヒルズ", "コート",
)

#: (domain, weight) of member e-mail addresses.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.34), ("yahoo.co.jp", 0.24), ("icloud.com", 0.14), ("docomo.ne.jp", 0.06),
    ("ezweb.ne.jp", 0.04), ("softbank.ne.jp", 0.03), ("outlook.jp", 0.04),
    ("hotmail.co.jp", 0.03), ("nifty.com", 0.02), ("biglobe.ne.jp", 0.02), ("ocn.ne.jp", 0.02),
    ("au.com", 0.02),
)

#: Device types with their shares of visitors, and typical user agents per device.
DEVICE_TYPES: tuple[tuple[str, float], ...] = (("mobile", 0.66), ("desktop", 0.27), ("tablet", 0.07))
USER_AGENTS: dict[str, tuple[str, ...]] = {
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SO-51D) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SH-53C) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Line/14.10.0",
    ),
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    ),
}


def all_member_strings() -> list[str]:
    """Every vocabulary string that can end up in the CP932 members file."""
    out: list[str] = []
    for table in (FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES):
        for row in table:
            out.extend(row)
    for name, _pop, _postal, cities in PREFECTURES:
        out.append(name)
        out.extend(cities)
    out.extend(TOWNS)
    out.extend(BUILDING_PREFIXES)
    out.extend(BUILDING_SUFFIXES)
    out.extend(d for d, _w in EMAIL_DOMAINS)
    return out
