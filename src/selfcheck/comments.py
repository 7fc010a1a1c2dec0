"""Survey comments: themes by keyword, and a few representative comments to quote.

:func:`theme_flags` tags every comment with the themes whose keywords it contains
(vectorised ``str.contains``, one regular expression per theme; a comment may have
several themes). :func:`theme_table` counts them; :func:`representative` picks the
comments to quote: the lowest-scoring ones, then one or two per most frequent theme,
deduplicated, personal data masked (:func:`selfcheck.privacy.mask_series`) and trimmed.

The keyword lists were refined on the kind of comments customers write (``sample.py``
mirrors them): praise is matched on "满意" only when it is not "不满意", and closing
formulas (``谢谢``) are no theme, so a complaint ending in thanks is not praise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from selfcheck.privacy import mask_series

# theme → regular expression of its keywords (order = order of ties in the table)
THEMES: Mapping[str, str] = {
    "等待时间": r"等待|等候|排队|打不通|打不进|占线|等了|太久|很久|半天|没人回复|没人回应",
    "处理时效与跟进": (
        r"没人联系|没有下文|还没|拖了|未解决|仍未|催了|回电|没有打过来|尽快处理|及时|当天|第一时间"
        r"|一次就解决|处理速度"
    ),
    "收费与账单": r"收费|扣费|扣了|账单|费用|资费|退款|发票|材料费|金额",
    "服务态度": r"态度|不耐烦|礼貌|热情|耐心|生硬|贴心",
    "专业能力": r"专业|解答|说不清|解释不清|讲解|熟练|话术|解决不了",
    "现场服务": r"上门|到场|师傅|维修|工程师",
    "故障处理": r"故障|断网|信号|报修|停机|宕机",
    "线上渠道": r"(?i:app)|网页|网站|官网|系统|页面|公众号|小程序|在线客服|语音导航",
    "流程与转接": r"流程|转了|转接|部门|重新说|层级|手续",
    "意见建议": r"建议|希望|可以在|能否|最好",
    "表扬": r"(?<!不)满意|感谢|好评|表扬|点赞|五星|值得|方便|不错|辛苦",
}

MAX_CHARS = 80  # a quoted comment is cut after this many characters (with "……")
LOWEST = 3  # lowest-scoring comments quoted
TOP_THEMES = 4  # most frequent themes quoted from
PER_THEME = 1  # comments quoted per theme (2 for the most frequent one)
MAX_QUOTES = 8

_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3]"  # pictographs, dingbats
)
_SENTENCE_END = r"[。！？!?；;]"


def clean(comments: pd.Series) -> pd.Series:
    """Comment text as it may be quoted: whitespace collapsed, emoji dropped, blank → NA."""
    text = comments.astype("string")
    text = text.str.replace(_EMOJI, "", regex=True)
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.mask(text.eq("").fillna(False))


def theme_flags(comments: pd.Series) -> pd.DataFrame:
    """One boolean column per theme: does the comment mention it (NA comment → False)."""
    text = comments.astype("string")
    return pd.DataFrame(
        {
            theme: text.str.contains(rx, regex=True).fillna(False).astype(bool)
            for theme, rx in THEMES.items()
        },
        index=comments.index,
    )


def theme_table(comments: pd.Series, scores: pd.Series) -> pd.DataFrame:
    """Themes mentioned at least once: ``theme, mentions, share, mean_score``.

    ``share`` = mentions ÷ comments (non-blank); ``mean_score`` = mean of ``scores`` over
    the commenting responses of the theme whose score is known (NaN when none is). Ordered by descending
    mentions, ties in the order of :data:`THEMES`.
    """
    text = clean(comments)
    has = text.notna()
    flags = theme_flags(text)[has.to_numpy()]
    n = int(has.sum())
    score = pd.to_numeric(scores, errors="coerce")[has.to_numpy()].to_numpy(dtype=float)
    rows = []
    for order, theme in enumerate(THEMES):
        f = flags[theme].to_numpy(dtype=bool)
        mentions = int(f.sum())
        if mentions == 0:
            continue
        known = f & ~np.isnan(score)
        rows.append(
            {
                "theme": theme,
                "mentions": mentions,
                "share": mentions / n,
                "mean_score": float(score[known].mean()) if known.any() else np.nan,
                "order": order,
            }
        )
    frame = pd.DataFrame(rows, columns=["theme", "mentions", "share", "mean_score", "order"])
    frame = frame.astype({"mentions": "int64", "share": "float64", "mean_score": "float64"})
    frame = frame.sort_values(["mentions", "order"], ascending=[False, True], kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def trim(text: pd.Series, max_chars: int = MAX_CHARS) -> pd.Series:
    """Cut texts longer than ``max_chars`` at a sentence end if one is near, else at the limit."""
    text = text.astype("string")
    long = text.str.len().gt(max_chars).fillna(False)
    if not long.any():
        return text
    head = text[long].str.slice(0, max_chars)
    # the last sentence end in the head, if it keeps at least half of it
    cut = head.str.extract(rf"^(.{{{max_chars // 2},}}{_SENTENCE_END})", expand=False)
    out = text.copy()
    out[long] = cut.fillna(head.str.rstrip("，,、 ") + "……")
    return out


def representative(
    surveys: pd.DataFrame,
    *,
    lowest: int = LOWEST,
    top_themes: int = TOP_THEMES,
    per_theme: int = PER_THEME,
    max_quotes: int = MAX_QUOTES,
    max_chars: int = MAX_CHARS,
) -> pd.DataFrame:
    """Comments to quote: ``text, overall, segment, reason`` (no customer ids).

    First the ``lowest`` lowest-scoring comments (by ``overall``, known scores only), then
    for each of the ``top_themes`` most frequent themes its most typical comments not yet
    chosen (``per_theme``; one more for the most frequent theme). *Typical*: the comment's
    first sentence is the one written most often in the theme, lower scores first among
    equals. Comments are deduplicated on their first sentence, so the same complaint is
    not quoted twice. Texts are masked and trimmed; ties are broken by ``response_id``
    (else row order) so the choice is reproducible.
    """
    columns = ["text", "overall", "segment", "reason"]
    if surveys is None or "comment" not in surveys.columns:
        return pd.DataFrame(columns=columns)
    text = clean(surveys["comment"])
    has = text.notna().to_numpy()
    if not has.any():
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "text": text[has],
            "overall": pd.to_numeric(surveys["overall"], errors="coerce")[has]
            if "overall" in surveys.columns
            else np.nan,
            "segment": surveys["segment"].astype("string").str.strip()[has]
            if "segment" in surveys.columns
            else pd.NA,
            "tie": surveys["response_id"].astype("string")[has]
            if "response_id" in surveys.columns
            else pd.Series(np.arange(len(surveys)), index=surveys.index)[has].astype("string"),
        }
    )
    frame["key"] = frame["text"].str.split(_SENTENCE_END, n=1, regex=True).str[0].str.strip()
    frame["key_count"] = frame.groupby("key")["key"].transform("size")
    flags = theme_flags(frame["text"])
    lead = theme_flags(frame["key"])  # the theme is what the first sentence is about

    chosen: list[tuple[object, str]] = []  # (row label, reason)
    keys: set[str] = set()

    def take(candidates: pd.DataFrame, k: int, reason: str) -> None:
        for label, key in zip(candidates.index, candidates["key"], strict=True):
            if k <= 0 or len(chosen) >= max_quotes:
                return
            if key in keys:
                continue
            chosen.append((label, reason))
            keys.add(key)
            k -= 1

    scored = frame[frame["overall"].notna()]
    take(scored.sort_values(["overall", "tie"], kind="stable"), lowest, "评分最低")
    ranking = theme_table(frame["text"], frame["overall"])
    for i, theme in enumerate(ranking["theme"].head(top_themes)):
        in_theme = frame[flags[theme].to_numpy()].assign(lead=lead[theme])
        ordered = in_theme.sort_values(
            ["lead", "key_count", "overall", "tie"],
            ascending=[False, False, True, True],
            kind="stable",
        )
        take(ordered, per_theme + (1 if i == 0 else 0), theme)

    if not chosen:
        return pd.DataFrame(columns=columns)
    labels = [label for label, _ in chosen]
    out = frame.loc[labels, ["text", "overall", "segment"]].copy()
    out["text"] = trim(mask_series(out["text"]), max_chars)
    out["reason"] = [reason for _, reason in chosen]
    return out.reset_index(drop=True)
