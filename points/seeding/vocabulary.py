"""Words the demo street is made of: a fictional town, its shops and the people who shop there.

Everything here is invented; any likeness to a real shop is a coincidence.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

PROGRAMME_CODE = "SHOTENGAI"
PROGRAMME_NAME = "ひかり商店街ポイント"
PREFECTURE_CITY = "東京都ひかり市"
STREET_NAME = "ひかり銀座商店街"
TERMS_VERSION = "2024-04"
TERMS_IN_FORCE = datetime.datetime(2024, 4, 1, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))

# (town, postal code); the street runs through the first two.
TOWNS = [
    ("本町", "190-0011"),
    ("栄町", "190-0012"),
    ("緑町", "190-0013"),
    ("旭町", "190-0014"),
    ("若葉町", "190-0015"),
    ("桜台", "190-0021"),
    ("光が丘", "190-0022"),
    ("東町", "190-0023"),
    ("西町", "190-0024"),
    ("南町", "190-0025"),
    ("北町", "190-0026"),
    ("中央", "190-0031"),
    ("泉町", "190-0032"),
    ("松が丘", "190-0033"),
]
BUILDINGS = ["ひかりハイツ", "コーポ栄", "メゾン緑", "グランシャリオ本町", "サンライズ旭", "パークサイド桜台"]


def _triples(table: str) -> list[tuple[str, str, str]]:
    words = table.split()
    return list(zip(words[0::3], words[1::3], words[2::3], strict=True))


def _shops(table: str) -> dict[str, list[tuple[str, str]]]:
    shops: dict[str, list[tuple[str, str]]] = {}
    for line in table.strip().splitlines():
        category, name, kana = re.split(r"\s{2,}", line.strip())
        shops.setdefault(category, []).append((name, kana))
    return shops


# kanji, kana, romaji
SURNAMES = _triples("""
佐藤 サトウ sato    鈴木 スズキ suzuki    高橋 タカハシ takahashi    田中 タナカ tanaka
伊藤 イトウ ito    渡辺 ワタナベ watanabe    山本 ヤマモト yamamoto    中村 ナカムラ nakamura
小林 コバヤシ kobayashi    加藤 カトウ kato    吉田 ヨシダ yoshida    山田 ヤマダ yamada
佐々木 ササキ sasaki    山口 ヤマグチ yamaguchi    松本 マツモト matsumoto    井上 イノウエ inoue
木村 キムラ kimura    林 ハヤシ hayashi    斎藤 サイトウ saito    清水 シミズ shimizu
山崎 ヤマザキ yamazaki    森 モリ mori    池田 イケダ ikeda    橋本 ハシモト hashimoto
阿部 アベ abe    石川 イシカワ ishikawa    山下 ヤマシタ yamashita    中島 ナカジマ nakajima
石井 イシイ ishii    小川 オガワ ogawa    前田 マエダ maeda    岡田 オカダ okada
長谷川 ハセガワ hasegawa    藤田 フジタ fujita    後藤 ゴトウ goto    近藤 コンドウ kondo
村上 ムラカミ murakami    遠藤 エンドウ endo    青木 アオキ aoki    坂本 サカモト sakamoto
福田 フクダ fukuda    太田 オオタ ota    西村 ニシムラ nishimura    藤井 フジイ fujii
金子 カネコ kaneko    岡本 オカモト okamoto    藤原 フジワラ fujiwara    中野 ナカノ nakano
三浦 ミウラ miura    原田 ハラダ harada    松田 マツダ matsuda    竹内 タケウチ takeuchi
小野 オノ ono    田村 タムラ tamura    中山 ナカヤマ nakayama    和田 ワダ wada
石田 イシダ ishida    森田 モリタ morita    上田 ウエダ ueda    大野 オオノ ono
""")
FEMALE_NAMES = _triples("""
陽子 ヨウコ yoko    恵子 ケイコ keiko    美穂 ミホ miho    由美 ユミ yumi
直子 ナオコ naoko    裕子 ユウコ yuko    智子 トモコ tomoko    久美子 クミコ kumiko
明美 アケミ akemi    真由美 マユミ mayumi    愛 アイ ai    美咲 ミサキ misaki
彩 アヤ aya    結衣 ユイ yui    陽菜 ヒナ hina    さくら サクラ sakura
葵 アオイ aoi    千尋 チヒロ chihiro    奈々 ナナ nana    麻衣 マイ mai
理恵 リエ rie    和子 カズコ kazuko    幸子 サチコ sachiko    節子 セツコ setsuko
京子 キョウコ kyoko    美紀 ミキ miki    沙織 サオリ saori    芽衣 メイ mei
花子 ハナコ hanako    紀子 ノリコ noriko
""")
MALE_NAMES = _triples("""
太郎 タロウ taro    健太 ケンタ kenta    翔太 ショウタ shota    大輔 ダイスケ daisuke
拓也 タクヤ takuya    直樹 ナオキ naoki    浩 ヒロシ hiroshi    誠 マコト makoto
隆 タカシ takashi    聡 サトシ satoshi    健一 ケンイチ kenichi    和也 カズヤ kazuya
茂 シゲル shigeru    勇 イサム isamu    正男 マサオ masao    修 オサム osamu
陽翔 ハルト haruto    蓮 レン ren    悠真 ユウマ yuma    大翔 ヒロト hiroto
颯太 ソウタ sota    湊 ミナト minato    亮 リョウ ryo    剛 ツヨシ tsuyoshi
秀樹 ヒデキ hideki    康介 コウスケ kosuke    雄一 ユウイチ yuichi    達也 タツヤ tatsuya
俊介 シュンスケ shunsuke    裕太 ユウタ yuta
""")
MAIL_DOMAINS = ["example.jp", "example.ne.jp", "example.co.jp", "example.com"]


@dataclass(frozen=True)
class Trade:
    """How a kind of shop behaves: opening hours, busy weekdays (Mon..Sun), receipt sizes, footfall."""

    opens: int
    closes: int
    weekdays: tuple[float, ...]
    amount_low: int
    amount_high: int
    footfall: float


_WEEK = (1.0, 1.0, 1.0, 1.0, 1.1, 1.6, 1.4)
_NO_SUNDAY = (1.0, 1.0, 1.0, 1.0, 1.0, 1.4, 0.0)

TRADES = {
    "bakery": Trade(7, 19, _WEEK, 300, 1800, 4.0),
    "bookshop": Trade(10, 21, _WEEK, 500, 4000, 1.5),
    "cafe": Trade(8, 20, _WEEK, 400, 2500, 3.0),
    "restaurant": Trade(11, 21, _WEEK, 800, 4500, 2.5),
    "izakaya": Trade(17, 24, (0.6, 0.8, 0.9, 1.0, 1.8, 1.7, 0.0), 2000, 9000, 2.0),
    "grocery": Trade(9, 21, _WEEK, 500, 6000, 5.0),
    "butcher": Trade(9, 19, _WEEK, 600, 4000, 3.0),
    "fishmonger": Trade(9, 19, (1.0, 1.0, 0.0, 1.0, 1.1, 1.6, 1.2), 600, 4500, 3.0),
    "greengrocer": Trade(9, 19, _WEEK, 300, 3000, 4.0),
    "confectionery": Trade(9, 18, _WEEK, 300, 3500, 2.5),
    "pharmacy": Trade(9, 20, _WEEK, 400, 4000, 3.0),
    "clinic": Trade(9, 18, (1.0, 1.0, 1.0, 0.5, 1.0, 0.8, 0.0), 500, 5000, 1.2),
    "optician": Trade(10, 19, _WEEK, 3000, 35000, 0.3),
    "clothing": Trade(10, 19, _WEEK, 2000, 15000, 1.0),
    "shoes": Trade(10, 19, _WEEK, 2500, 12000, 0.6),
    "hair_salon": Trade(9, 19, (1.0, 0.0, 1.0, 1.0, 1.1, 1.7, 1.5), 2000, 9000, 1.0),
    "florist": Trade(9, 19, _WEEK, 500, 5000, 1.0),
    "hardware": Trade(9, 19, _NO_SUNDAY, 300, 5000, 0.8),
    "electronics": Trade(10, 19, _WEEK, 1000, 30000, 0.5),
    "liquor": Trade(10, 22, _WEEK, 800, 6000, 1.5),
    "tea": Trade(10, 18, _WEEK, 500, 4000, 1.0),
    "laundry": Trade(8, 20, _WEEK, 300, 3000, 2.0),
    "other": Trade(10, 19, _WEEK, 400, 6000, 1.0),
}

# Category, name, kana. The street takes them round-robin over the categories,
# so a small street still has one of each kind.
SHOPS = _shops("""
bakery         ベーカリー麦の穂              ベーカリームギノホ
bakery         パン工房こむぎ                パンコウボウコムギ
bakery         ブーランジェリー・ソレイユ    ブーランジェリーソレイユ
bakery         石窯パンのひかり              イシガマパンノヒカリ
bakery         木村屋パン店                  キムラヤパンテン
bakery         ベーカリー朝日                ベーカリーアサヒ
cafe           喫茶ポプラ                    キッサポプラ
cafe           珈琲館さくら                  コーヒーカンサクラ
cafe           カフェ・ド・リュミエール      カフェドリュミエール
cafe           自家焙煎珈琲まめや            ジカバイセンコーヒーマメヤ
cafe           喫茶ロマン                    キッサロマン
cafe           カフェ木もれび                カフェコモレビ
cafe           純喫茶エトワール              ジュンキッサエトワール
cafe           ひだまりカフェ                ヒダマリカフェ
cafe           珈琲屋ぶるーむーん            コーヒーヤブルームーン
cafe           ティールーム花水木            ティールームハナミズキ
restaurant     洋食キッチンひかり            ヨウショクキッチンヒカリ
restaurant     そば処やぶ平                  ソバドコロヤブヘイ
restaurant     中華料理 龍門                 チュウカリョウリリュウモン
restaurant     とんかつ勝や                  トンカツカツヤ
restaurant     うどん亭さぬき                ウドンテイサヌキ
restaurant     寿司処まる宮                  スシドコロマルミヤ
restaurant     ラーメン一番星                ラーメンイチバンボシ
restaurant     定食屋たぬき                  テイショクヤタヌキ
restaurant     天ぷら天政                    テンプラテンマサ
restaurant     鰻の川松                      ウナギノカワマツ
restaurant     お好み焼き ふく福             オコノミヤキフクフク
restaurant     イタリア食堂ボーノ            イタリアショクドウボーノ
restaurant     カレーハウス ガネーシャ       カレーハウスガネーシャ
restaurant     焼肉 牛楽                     ヤキニクギュウラク
restaurant     餃子の王さま                  ギョウザノオウサマ
restaurant     洋食屋グリル大関              ヨウショクヤグリルオオゼキ
izakaya        居酒屋とりよし                イザカヤトリヨシ
izakaya        炉端焼き 漁火                 ロバタヤキイサリビ
izakaya        大衆酒場 赤ちょうちん         タイシュウサカバアカチョウチン
izakaya        焼鳥 鳥八                     ヤキトリトリハチ
izakaya        酒処 ほろ酔い                 サケドコロホロヨイ
izakaya        立ち飲み 角打ちや             タチノミカクウチヤ
izakaya        串カツ 田なか                 クシカツタナカ
izakaya        もつ焼き 松ちゃん             モツヤキマッチャン
izakaya        海鮮居酒屋 浜っ子             カイセンイザカヤハマッコ
izakaya        おでん 小春                   オデンコハル
izakaya        居酒屋 笑門                   イザカヤショウモン
izakaya        和酒と肴 ひより               ワシュトサカナヒヨリ
clinic         さくら内科クリニック          サクラナイカクリニック
clinic         ひかり歯科医院                ヒカリシカイイン
clinic         本町眼科                      ホンチョウガンカ
clinic         栄町整形外科                  サカエチョウセイケイゲカ
clinic         こどもクリニックにじいろ      コドモクリニックニジイロ
clinic         みどり皮膚科                  ミドリヒフカ
clinic         たなか耳鼻咽喉科              タナカジビインコウカ
clinic         駅前デンタルクリニック        エキマエデンタルクリニック
clinic         あおぞら整骨院                アオゾラセイコツイン
clinic         ひかり鍼灸院                  ヒカリシンキュウイン
grocery        ひかりマート                  ヒカリマート
grocery        食品館まるやま                ショクヒンカンマルヤマ
grocery        フレッシュ栄屋                フレッシュサカエヤ
grocery        こだわり食材 山の恵み         コダワリショクザイヤマノメグミ
grocery        乾物の丸八                    カンブツノマルハチ
grocery        米穀店 みのり屋               ベイコクテンミノリヤ
bookshop       本の森書店                    ホンノモリショテン
bookshop       ひかり堂書店                  ヒカリドウショテン
bookshop       古書くろねこ                  コショクロネコ
bookshop       文栄堂                        ブンエイドウ
hair_salon     美容室 ヘアーサロン彩         ビヨウシツヘアーサロンアヤ
hair_salon     理容 バーバー中村             リヨウバーバーナカムラ
hair_salon     ヘアサロン ルーチェ           ヘアサロンルーチェ
hair_salon     美容室 花かんざし             ビヨウシツハナカンザシ
hair_salon     カットハウス スマイル         カットハウススマイル
hair_salon     ヘアメイク リアン             ヘアメイクリアン
hair_salon     理容 たかぎ                   リヨウタカギ
hair_salon     美容室 ミモザ                 ビヨウシツミモザ
hair_salon     ネイルサロン ココ             ネイルサロンココ
hair_salon     ヘアーショップ 風             ヘアーショップカゼ
hair_salon     エステサロン 月光             エステサロンゲッコウ
hair_salon     美容室 アトリエK              ビヨウシツアトリエケイ
confectionery  和菓子 松風堂                 ワガシショウフウドウ
confectionery  御菓子司 亀屋                 オカシツカサカメヤ
confectionery  甘味処 あんみつ庵             カンミドコロアンミツアン
confectionery  たい焼き なみへい             タイヤキナミヘイ
confectionery  せんべいの中村屋              センベイノナカムラヤ
confectionery  パティスリー・ミエル          パティスリーミエル
confectionery  大福の福助                    ダイフクノフクスケ
confectionery  団子の花月                    ダンゴノカゲツ
greengrocer    八百屋 八百政                 ヤオヤヤオマサ
greengrocer    青果 みどり屋                 セイカミドリヤ
greengrocer    やさい村                      ヤサイムラ
greengrocer    八百屋 旬菜館                 ヤオヤシュンサイカン
greengrocer    くだもの処 果樹園             クダモノドコロカジュエン
pharmacy       ひかり薬局                    ヒカリヤッキョク
pharmacy       あおば調剤薬局                アオバチョウザイヤッキョク
pharmacy       くすりのサカエ                クスリノサカエ
pharmacy       中央ドラッグ                  チュウオウドラッグ
pharmacy       本町薬局                      ホンチョウヤッキョク
butcher        肉の大和                      ニクノヤマト
butcher        精肉店 ミートたかはし         セイニクテンミートタカハシ
butcher        肉のさかえ                    ニクノサカエ
butcher        鶏肉専門 とり源               トリニクセンモントリゲン
fishmonger     魚辰                          ウオタツ
fishmonger     鮮魚 浜田屋                   センギョハマダヤ
fishmonger     魚屋 まる一                   サカナヤマルイチ
fishmonger     鮮魚の海幸                    センギョノウミサチ
clothing       ブティック マリエ             ブティックマリエ
clothing       洋品店 さかえ屋               ヨウヒンテンサカエヤ
clothing       呉服 きものの松屋             ゴフクキモノノマツヤ
clothing       セレクトショップ ノマド       セレクトショップノマド
clothing       紳士服 テーラー山本           シンシフクテーラーヤマモト
clothing       子供服 こぐま                 コドモフクコグマ
clothing       婦人服 エレガンス             フジンフクエレガンス
clothing       作業服の丸正                  サギョウフクノマルショウ
clothing       肌着・靴下 ほっこり堂         ハダギクツシタホッコリドウ
clothing       古着屋 リバイバル             フルギヤリバイバル
clothing       ジーンズショップ ブルー       ジーンズショップブルー
clothing       和装小物 ちりめん屋           ワソウコモノチリメンヤ
liquor         酒の丸屋                      サケノマルヤ
liquor         地酒の伊勢屋                  ジザケノイセヤ
liquor         ワインショップ ヴィーニュ     ワインショップヴィーニュ
liquor         加藤酒店                      カトウサケテン
liquor         リカーショップ さかもと       リカーショップサカモト
laundry        ひかりクリーニング            ヒカリクリーニング
laundry        クリーニング白鳥              クリーニングシラトリ
laundry        コインランドリー あわあわ     コインランドリーアワアワ
laundry        クリーニングのマルエ          クリーニングノマルエ
laundry        洗濯工房 せせらぎ             センタクコウボウセセラギ
florist        花のアトリエ 野の花           ハナノアトリエノノハナ
florist        フラワーショップ はなまる     フラワーショップハナマル
florist        生花店 花清                   セイカテンハナセイ
florist        グリーンショップ 森の窓       グリーンショップモリノマド
tea            日本茶専門店 茶寿             ニホンチャセンモンテンチャジュ
tea            お茶の山本園                  オチャノヤマモトエン
tea            茶舗 一葉                     チャホイチヨウ
tea            紅茶の店 アールグレイ         コウチャノミセアールグレイ
optician       メガネのひかり                メガネノヒカリ
optician       眼鏡店 レンズ工房             メガネテンレンズコウボウ
optician       時計・メガネ 正確堂           トケイメガネセイカクドウ
shoes          靴のマルヤマ                  クツノマルヤマ
shoes          シューズ ステップ             シューズステップ
shoes          はきもの 下駄屋               ハキモノゲタヤ
shoes          靴の修理工房 テツ             クツノシュウリコウボウテツ
hardware       金物の大黒屋                  カナモノノダイコクヤ
hardware       荒物 ほうき屋                 アラモノホウキヤ
hardware       工具の田村                    コウグノタムラ
hardware       生活雑貨 くらしの道具         セイカツザッカクラシノドウグ
electronics    中村電器                      ナカムラデンキ
electronics    ひかり電機                    ヒカリデンキ
electronics    電化ショップ サカエ           デンカショップサカエ
electronics    時計・カメラ 光学堂           トケイカメラコウガクドウ
other          文具のひかり堂                ブングノヒカリドウ
other          おもちゃのたぬき屋            オモチャノタヌキヤ
other          手芸の店 いとまき             シュゲイノミセイトマキ
other          フォトスタジオ光              フォトスタジオヒカリ
other          サイクル本町                  サイクルホンチョウ
other          はんこの大和堂                ハンコノヤマトドウ
other          陶器の器や                    トウキノウツワヤ
other          たたみの松本                  タタミノマツモト
other          ペットショップ わんにゃん     ペットショップワンニャン
other          ひかりゼミナール              ヒカリゼミナール
other          楽器店 ハーモニー             ガッキテンハーモニー
other          本町ハウジング                ホンチョウハウジング
other          旅行センター たびまち         リョコウセンタータビマチ
other          時計店 時の鐘                 トケイテントキノカネ
other          合鍵・靴修理 キーマン         アイカギクツシュウリキーマン
""")

# A merchant with a second shop on the street names it after its place.
BRANCH_SUFFIXES = [
    ("駅前店", "エキマエテン"),
    ("栄町店", "サカエチョウテン"),
    ("二号店", "ニゴウテン"),
    ("北口店", "キタグチテン"),
]

# (bank code, bank name); the local shinkin bank holds most shopkeepers' accounts.
BANKS = [
    ("1356", "ひかり信用金庫"),
    ("1356", "ひかり信用金庫"),
    ("0001", "みずほ銀行"),
    ("0005", "三菱UFJ銀行"),
    ("0009", "三井住友銀行"),
    ("9900", "ゆうちょ銀行"),
]

ADJUST_CREDIT_REASONS = [
    "レシート持参による後付け(端末通信障害時の取引)",
    "カード読み取り不良のため手動付与",
    "商店街イベント参加賞",
    "お客様相談窓口での補填対応",
]
ADJUST_DEBIT_REASONS = ["二重付与の取消", "誤った金額での付与の訂正"]
REPLACEMENT_REASONS = ["カード紛失による再発行", "カード破損による再発行", "ICカードの買い替え"]
