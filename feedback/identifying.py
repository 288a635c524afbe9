"""Whether free text may identify a child or a colleague.

A heuristic: it prompts the person to check, it never refuses anything. A
needless warning costs a tick; a missed name costs a child. So it looks for
a name beside what makes a name identifying:

- a unique pupil number (a letter, 11 digits and a check character);
- a date near a name (a date of birth);
- a title before a name ("Mrs Patel");
- a year group beside a name ("Oliver Smith in Year 3", "Year 3's Oliver");
- a role in a school beside a name ("the SENCO, Priya", "Jane Doe, our SENCO,");
- a named school with a role in it, or a name at it ("the SENCO at St Mary's
  Primary", "Oliver at Oakfield Academy").

What it leaves alone: a year group, a role or a school on its own ("Year 3
pupils", "the SENCO network", "St Mary's Primary lost its resource base": a
school names no one), "Mrs" with no name, "Schools Forum", and the places
people write about (the words of authorities' and regions' names, passed as
`places`: "pupils in Camden in Year 6").

A name is a capitalised word that is not in NOT_NAMES: the words that start
sentences or name things rather than people. A capitalised word at the start
of a sentence is taken for a name when a year group, role or school follows it
closely; NOT_NAMES keeps the usual ones ("Pupils in Year 3") from counting.
"""

import re

from authorities.models import LocalAuthority, Region

SP = r"[^\S\r\n]{1,9}"  # spaces within a line
SP0 = r"[^\S\r\n]{0,9}"  # or none
# Oliver, O'Brien, McDonald, Smith-Jones. Bounded, as every repeat here is:
# unbounded, a long run of "Aa'Aa'Aa'…" takes each pattern quadratic time.
WORD = r"[A-Z][a-z]{0,30}(?:['\u2019-]?[A-Z][a-z]{1,30}){0,3}"
NAME_WORD = re.compile(rf"\b{WORD}\b")
NAME = rf"\b{WORD}(?:{SP}{WORD})?\b"  # a first name, and a surname if given
TITLE = r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\b\.?"
YEAR = r"(?:\b(?:[Yy]ear|[Yy]r|Y)[^\S\r\n]?(?:1[0-3]|[1-9])\b|\bReception\b)"
# One person's role in a school (singular: "SENCOs" or "teachers" are no one).
ROLE = (
    r"\b(?:SENC[Oo]|SENDC[Oo]|[Hh]ead(?:[^\S\r\n]?teacher)?|[Dd]eputy(?:[^\S\r\n]head)?"
    r"|[Pp]rincipal|[Tt]eacher|[Tt]eaching[^\S\r\n]assistant|TA|LSA"
    r"|[Ee]ducational[^\S\r\n]psychologist|EP|[Cc]ase[^\S\r\n]?(?:worker|officer)"
    r"|[Kk]ey[^\S\r\n]?worker)\b"
)
# A role word used of a thing, not a person: "the SENCO network".
NOT_A_PERSON = (
    rf"(?!{SP}(?:network|forum|group|cluster|meeting|training|time|award|hub|conference"
    r"|briefing|session|pay|workload|role|post|vacanc|recruitment|budget|hours|shortage"
    r"|standards|assessment|apprentice))"
)
SCHOOL_WORDS = rf"{WORD}(?:['\u2019]s)?(?:{SP}{WORD}(?:['\u2019]s)?){{0,4}}"
SCHOOL_KIND = r"(?:Primary|Secondary|Infants?|Juniors?|Academy|School|College|High|Grammar)\b"
SCHOOL = re.compile(rf"(?:\bSt\b\.?{SP})?(?P<name>\b{SCHOOL_WORDS}){SP}{SCHOOL_KIND}")
# A name beside a year group or a role (the name in the group "name").
BESIDE = [
    re.compile(p, re.MULTILINE)
    for p in (
        rf"(?P<name>{NAME}){SP}(?:(?:is|was){SP})?(?:in|from){SP}{YEAR}",
        rf"(?P<name>{NAME}){SP0}(?:\({SP0}{YEAR}|,{SP0}{YEAR}{SP0}[,)])",
        rf"(?P<name>{NAME})['\u2019]s{SP}{YEAR}",
        rf"{YEAR}['\u2019]s{SP}(?P<name>{NAME})",
        rf"{YEAR}{SP}(?:pupil|child|boy|girl|student|learner){SP0},?{SP0}(?P<name>{NAME})",
        rf"{ROLE}{SP0},?{SP0}(?P<name>{NAME})",
        rf"(?P<name>{NAME}){SP0},{SP0}(?:the|our|their|a|an|his|her|its){SP}(?:\w{{1,20}}{SP})?"
        rf"{ROLE}{SP0}(?:[,;.)]|$)",
        rf"(?P<name>{NAME}){SP0}\({SP0}(?:the{SP})?{ROLE}{SP0}\)",
        rf"(?P<name>{NAME}){SP}(?:at|from|of){SP}(?:St\b\.?{SP})?{SCHOOL_WORDS}{SP}{SCHOOL_KIND}",
    )
]
TITLED = re.compile(rf"{TITLE}{SP}(?P<name>{WORD})\b")
PERSON_IN_SCHOOL = re.compile(ROLE + NOT_A_PERSON)
# Sentences end at . ! ? (not after "St." or a title) and at line breaks.
SENTENCE_END = re.compile(r"(?<!\bSt)(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)[.!?](?=\s)|[\r\n]")

UPN = re.compile(r"\b[A-Za-z]\d{11}[0-9A-Za-z]\b")
DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b")
NEAR = 40  # characters either side of a date in which a name counts

# Capitalised words that are not names. Anything else beside a date, a year
# group or a role is taken for one.
_NOT_NAMES = """
    A An And At But By For From In Into Of On Or So The To With Without Upon
    I Me My We Us Our You Your He Him His She Her They Them Their It Its This That These
    Those There Here What When Where Which While Who Whom Why How If As Is Was Are Were
    After Again All Also Although Another Any Anyone Because Before Both During Each Even
    Every Everyone Few However Last Later Many Meanwhile Most Much Next No None Nobody Not
    Now Once One Only Other Others Overall Several Since Some Someone Still Then Today Until
    Yet Yes Yesterday Currently Recently Sadly Unfortunately Often Sometimes Usually Half
    Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve First Second Third New
    Mr Mrs Ms Miss Mx Dr Prof St Sir Dame
    Pupil Pupils Child Children Student Students Learner Learners Boy Boys Girl Girls Young
    People Parent Parents Carer Carers Family Families Teacher Teachers Staff Colleague
    Colleagues Head Heads Headteacher Headteachers Deputy Leader Leaders Governor Governors
    Member Members Meeting Met Network Networks Forum Group Groups Cluster Team Teams Service
    Services Hub Panel Board Conference Training Award Programme Partnership Trust Council
    Authority Office Department Local Offer Tribunal Agreement Plan Plans Review Reviews
    Transition Provision Support Assessment Assessments Funding Places Requests Referrals
    Applications Waits Waiting Numbers Needs Attendance Exclusions Behaviour Outreach Therapy
    Therapies Speech Language Occupational Education Educational Health Care Social
    Mainstream Inclusion Resource Base Unit Transport Safety Valve Delivering Better Value
    High Block Grant
    Term Terms Week Weeks Month Months Day Days Year Years Autumn Spring Summer Easter
    Christmas Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February
    March April May June July August September October November December Jan Feb Mar Apr Jun
    Jul Aug Sep Sept Oct Nov Dec
    Reception Nursery Primary Secondary Special School Schools Academy Academies College
    Infant Infants Junior Juniors Grammar Free Community Catholic Church
    North South East West Central Greater City County Borough Isle Isles
"""
NOT_NAMES = frozenset(_NOT_NAMES.split())


def _every(pattern, text):
    """Every match of `pattern`, overlapping ones included: "Yesterday Oliver
    in Year 3" is looked at from "Oliver" too."""
    position = 0
    while match := pattern.search(text, position):
        yield match
        position = match.start() + 1


def place_words():
    """The words of every authority's and region's name ("Camden",
    "Tyne"), for looks_identifying's `places` (two small queries)."""
    names = [
        *LocalAuthority.objects.values_list("name", flat=True),
        *Region.objects.values_list("name", flat=True),
    ]
    return frozenset(NAME_WORD.findall(" ".join(names)))


def looks_identifying(text, places=frozenset()):
    """Whether `text` may identify a child or a colleague (see the module's
    docstring). `places`: words that name places, not people ("Camden")."""
    if UPN.search(text):
        return True
    not_names = NOT_NAMES | places

    def named(words):
        return any(word not in not_names for word in NAME_WORD.findall(words))

    def first_named(words):
        # "Teacher Assessment Frameworks" names no one; a surname alone is
        # looked at in the match that starts with it ("May Smith in Year 3").
        return words.split()[0] not in not_names

    for date in DATE.finditer(text):
        if named(text[max(0, date.start() - NEAR) : date.end() + NEAR]):
            return True
    # A title makes the next word a name, even a place's ("Mrs Kent").
    if any(match["name"] not in NOT_NAMES for match in TITLED.finditer(text)):
        return True
    for pattern in BESIDE:
        if any(first_named(match["name"]) for match in _every(pattern, text)):
            return True
    return any(
        PERSON_IN_SCHOOL.search(sentence)
        and any(named(school["name"]) for school in SCHOOL.finditer(sentence))
        for sentence in SENTENCE_END.split(text)
    )
