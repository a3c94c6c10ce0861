"""What an extraction must be: its version, its one error, and the checks a policy's text passes.

Light on purpose (no HTML parser): the archivist records failures and checks re-extracted text
with it on every fetch, while the parsers are loaded only when a page's content changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policywatch.core.errors import InputError
from policywatch.text.chrome import NOTICE_MAX_CHARS, error_notice
from policywatch.text.noise import normalise
from policywatch.text.plain import plain

# Bump when a change to the extraction (html, markdown, pdf) can change the Markdown of an unchanged
# page: versions carry it, and `policywatch reextract` rebuilds them from snapshots as technical changes.
EXTRACTOR_VERSION = "2"


class ExtractionError(InputError):
    """The page was fetched but holds no usable policy text; ``kind`` names the failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# Policy language in the languages of the catalog and the bundle: a legal text uses at least
# ``_MIN_POLICY_TERMS`` distinct terms of it, in any of them. Imprints ("legal notice",
# "Impressum", "mentions légales") have their own vocabulary: registers, capital, publisher.
_LATIN_TERMS = (
    # English
    r"privacy|personal (?:data|information)|terms|policy|agree(?:ment)?|consent|rights?|third[- ]part(?:y|ies)|"
    r"laws?|lawful|liab(?:le|ility)|warrant(?:y|ies)|indemnif\w*|arbitration|jurisdiction|terminat(?:e|ion)|"
    r"licen[cs]e|intellectual property|disclos(?:e|ure)|collect(?:ion)?|retention|retain|process(?:ing)?|"
    r"prohibited|comply|obligations?|governing|breach|cookies?|data protection|you (?:may|must|agree)|"
    r"we (?:may|will|collect|use)|sub-?processors?|subcontractors?|controllers?|security|vulnerabilit(?:y|ies)|"
    r"safe harbou?r|"
    r"imprint|legal notice|publisher|registered (?:office|offices|address)|share capital|capital of|"
    r"(?:trade|companies|commercial) register|publication director|hosting|hosted by|company number|vat|"
    # French
    r"données (?:personnelles|à caractère personnel)|confidentialité|conditions générales|politique|"
    r"consentement|droits?|tiers|responsabilité|loi|résiliation|propriété intellectuelle|divulgation|"
    r"collecte|conservation|traitement|protection des données|vous (?:acceptez|devez|pouvez)|"
    r"nous (?:pouvons|collectons|utilisons)|contrat|mentions légales|hébergeur|siège social|éditeur|"
    # German
    r"datenschutz\w*|personenbezogenen? daten|nutzungsbedingungen|bedingungen|einwilligung|rechte|dritten?|"
    r"haftung|gesetz\w*|kündigung|lizenz|geistiges eigentum|verarbeitung|speicherung|erhebung|vertrag\w*|"
    r"impressum|handelsregister|geschäftsführer|"
    # Spanish
    r"datos personales|privacidad|términos|condiciones|política|consentimiento|derechos?|terceros|"
    r"responsabilidad|ley(?:es)?|licencia|propiedad intelectual|tratamiento|aviso legal|contrato|"
    # Italian
    r"dati personali|termini|condizioni|informativa|consenso|diritti|terzi|responsabilità|legge|licenza|"
    r"proprietà intellettuale|trattamento|titolare del trattamento|contratto|"
    # Portuguese
    r"dados pessoais|privacidade|termos|condições|consentimento|direitos|terceiros|responsabilidade|lei|"
    r"licença|propriedade intelectual|armazenamento|"
    # Dutch
    r"persoonsgegevens|voorwaarden|beleid|toestemming|rechten|derden|aansprakelijkheid|wet|licentie|"
    r"intellectueel eigendom|verwerking|overeenkomst"
)
# Chinese (simplified and traditional), Japanese and Korean: no spaces between words.
_CJK_TERMS = (
    "隐私|隱私|个人信息|個人資料|个人数据|协议|協議|条款|條款|同意|授权|授權|权利|權利|第三方|法律|法规|責任|责任|"
    "许可|知识产权|知識產權|披露|收集|存储|保存|处理|處理|禁止|违反|终止|账号|帐号|用户|服务|"
    "個人情報|プライバシー|利用規約|規約|第三者|権利|法令|利用目的|契約|免責|知的財産|開示|"
    "개인정보|이용약관|약관|동의|제3자|책임|권리|법령|법률|수집|보관|처리|금지|계약|지식재산|이용자"
)
_POLICY_TERMS = re.compile(rf"\b(?:{_LATIN_TERMS})\b|{_CJK_TERMS}", re.I)
_MIN_POLICY_TERMS = 6
# A short document (a list of sub-processors, a vulnerability disclosure policy, an imprint)
# has room for fewer: half as many.
SHORT_POLICY_CHARS = 4_000


# A text this much smaller than the last accepted one has collapsed (a wrong page, a broken
# selector); on the ``COLLAPSE_ACCEPT_AFTER``-th consecutive fetch that is collapsed and passes
# every other check it is the document's new size (a policy that became a shorter page).
COLLAPSE_RATIO = 0.2
COLLAPSE_ACCEPT_AFTER = 3


@dataclass(frozen=True)
class Checked:
    """A text that passed: ``rebaselined`` when it is a collapse accepted as the new size."""

    chars: int
    rebaselined: bool = False
    notice: str | None = None  # an error notice the text carries as page chrome


def check_text(
    text: str,
    *,
    min_chars: int,
    previous_chars: int | None = None,
    normalised: str | None = None,
    collapsed_before: int = 0,
    previous_notice: str | None = None,
    accept: bool = False,
) -> Checked:
    """Refuse text that cannot be the policy: too short, an error page, not policy language
    (in any of the languages above), or collapsed against ``previous_chars`` (the last accepted
    text's size) for fewer than ``COLLAPSE_ACCEPT_AFTER`` fetches in a row (``collapsed_before``
    counts those refused so far).

    An error notice ("This page isn't available", ``text.chrome``) the last accepted text did not
    carry (``previous_notice``) makes the text an ``error-page``, however much policy text is
    around it: one page of several failed, a section was replaced, or the notice was put above
    an intact policy (nothing is lost: the next clean fetch is compared with the last good
    text). A notice the last accepted text carried already is part of the page. ``accept``
    (``policywatch accept``) takes a fresh notice or a collapse as they are."""
    size = len(normalised if normalised is not None else normalise(text))
    if size < min_chars:
        raise ExtractionError("text-too-short", f"{size} characters, below the minimum of {min_chars}")
    notice = _error_notice(text)
    if notice is not None and notice != previous_notice and not accept:
        raise ExtractionError("error-page", f"an error notice stands in for the policy text: {notice[:80]!r}")
    wanted = _MIN_POLICY_TERMS if size >= SHORT_POLICY_CHARS else _MIN_POLICY_TERMS // 2
    terms: set[str] = set()
    for match in _POLICY_TERMS.finditer(text[:200_000]):
        terms.add(match.group(0).lower())
        if len(terms) >= wanted:
            break
    if len(terms) < wanted:
        raise ExtractionError(
            "not-a-policy", f"only {len(terms)} distinct terms of policy language (at least {wanted} expected)"
        )
    if previous_chars and size < previous_chars * COLLAPSE_RATIO:
        if accept or collapsed_before + 1 >= COLLAPSE_ACCEPT_AFTER:
            return Checked(size, rebaselined=True, notice=notice)
        raise ExtractionError("text-collapsed", f"{size} characters against {previous_chars} in the previous version")
    return Checked(size, notice=notice)


# What every error notice contains (``text.chrome.ERROR_NOTICES``): lines are read only after it.
_NOTICE_HINT = re.compile(
    r"(?:isn't|is not|isn’t) available|link may be broken|unexpected error|went wrong|not found|404|try reloading", re.I
)
_LINE_MARKUP = re.compile(r"^[#>*\s-]+")


def _error_notice(text: str) -> str | None:
    """An error notice on a short line of its own ("This page isn't available"), or None."""
    if not _NOTICE_HINT.search(text):  # one pass in C over the whole text: most have none
        return None
    lines = [
        plain(_LINE_MARKUP.sub("", line))
        for line in text.splitlines()
        if 0 < len(line) <= NOTICE_MAX_CHARS and _NOTICE_HINT.search(line)
    ]
    return error_notice(lines) if lines else None
