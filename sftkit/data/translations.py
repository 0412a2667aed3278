"""English -> French sentence pairs made by the project, as chat rows for instruction SFT.

MADE DATA: every sentence comes from three sentence patterns and a small bilingual lexicon written for this
course, not from real text; each row says so in its `source` column. The grammar is kept small enough that
every French sentence is right: nouns carry their gender and plural, adjectives their four forms (masculine
and feminine, singular and plural) and follow the noun, as French colour adjectives do, and no noun starts
with a vowel or an h, so no article is elided (l').

What the test split measures (column `held_out`):

- "combination": a noun and an adjective that both occur in training, never together;
- "word": a sentence with a noun or an adjective that never occurs in training (HELD_OUT_NOUNS,
  HELD_OUT_ADJECTIVES), so the model must know the French word from pretraining.

Validation has the same mix. Training holds neither. It teaches the mechanics of translation SFT and how far
a small model generalises beyond its training words; it says nothing about translating real text.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import datasets as hf_datasets

__all__ = ["ADJECTIVES", "HELD_OUT_ADJECTIVES", "HELD_OUT_NOUNS", "NOUNS", "PROMPT", "SOURCE", "SUBJECTS",
           "held_out_pair", "made_translations", "translate"]

SOURCE = "made: sftkit.data.translations.made_translations (templates and a lexicon, not real text)"
PROMPT = "Translate to French: {english}"


class Noun(NamedTuple):
    english: str
    english_plural: str
    french: str
    french_plural: str
    gender: str  # "m" or "f"


class Adjective(NamedTuple):
    english: str
    forms: tuple[str, str, str, str]  # masculine singular, feminine singular, masculine plural, feminine plural


NOUNS = [Noun(*row) for row in [
    ("cat", "cats", "chat", "chats", "m"), ("dog", "dogs", "chien", "chiens", "m"),
    ("house", "houses", "maison", "maisons", "f"), ("car", "cars", "voiture", "voitures", "f"),
    ("book", "books", "livre", "livres", "m"), ("table", "tables", "table", "tables", "f"),
    ("door", "doors", "porte", "portes", "f"), ("chair", "chairs", "chaise", "chaises", "f"),
    ("bag", "bags", "sac", "sacs", "m"), ("cup", "cups", "tasse", "tasses", "f"),
    ("bike", "bikes", "vélo", "vélos", "m"), ("box", "boxes", "boîte", "boîtes", "f"),
    ("shirt", "shirts", "chemise", "chemises", "f"), ("hat", "hats", "chapeau", "chapeaux", "m"),
    ("flower", "flowers", "fleur", "fleurs", "f"), ("pen", "pens", "stylo", "stylos", "m"),
    ("bed", "beds", "lit", "lits", "m"), ("boat", "boats", "bateau", "bateaux", "m"),
    ("coat", "coats", "manteau", "manteaux", "m"), ("key", "keys", "clé", "clés", "f"),
    ("shoe", "shoes", "chaussure", "chaussures", "f"), ("wall", "walls", "mur", "murs", "m"),
    # never in training: test sentences with these need French the model brings from pretraining
    ("horse", "horses", "cheval", "chevaux", "m"), ("bottle", "bottles", "bouteille", "bouteilles", "f"),
    ("garden", "gardens", "jardin", "jardins", "m"),
]]
ADJECTIVES = [Adjective(english, tuple(forms.split())) for english, forms in [
    ("black", "noir noire noirs noires"), ("white", "blanc blanche blancs blanches"),
    ("red", "rouge rouge rouges rouges"), ("blue", "bleu bleue bleus bleues"),
    ("grey", "gris grise gris grises"), ("yellow", "jaune jaune jaunes jaunes"),
    ("heavy", "lourd lourde lourds lourdes"), ("clean", "propre propre propres propres"),
    ("green", "vert verte verts vertes"),  # never in training
]]
HELD_OUT_NOUNS = ("horse", "bottle", "garden")
HELD_OUT_ADJECTIVES = ("green",)
# Subjects of the third pattern: "I see the black cat." -> "Je vois le chat noir."
SUBJECTS = {"I see": "Je vois", "We have": "Nous avons", "She wants": "Elle veut", "He sells": "Il vend"}
# English determiner and number -> French determiner by gender
DETERMINERS = {("the", False): ("le", "la"), ("a", False): ("un", "une"), ("the", True): ("les", "les"),
               ("two", True): ("deux", "deux")}


def held_out_pair(noun: Noun, adjective: Adjective) -> bool:
    """Whether this pair of training words is kept out of training (about one pair in six)."""
    return (NOUNS.index(noun) + ADJECTIVES.index(adjective)) % 6 == 0


def _agree(adjective: Adjective, gender: str, plural: bool) -> str:
    return adjective.forms[(gender == "f") + 2 * plural]


def translate(pattern: str, noun: Noun, adjective: Adjective, *, plural: bool = False, subject: str = "I see",
              determiner: str = "the") -> tuple[str, str]:
    """(English, French) for one sentence of a pattern: "is" (The cat is black.), or "sees" (I see a black cat.)."""
    fr_noun = noun.french_plural if plural else noun.french
    en_noun = noun.english_plural if plural else noun.english
    adj = _agree(adjective, noun.gender, plural)
    if pattern == "is":
        english = f"The {en_noun} {'are' if plural else 'is'} {adjective.english}."
        article = "Les" if plural else ("Le" if noun.gender == "m" else "La")
        return english, f"{article} {fr_noun} {'sont' if plural else 'est'} {adj}."
    if pattern == "sees":
        fr_det = DETERMINERS[determiner, plural][noun.gender == "f"]
        return (f"{subject} {determiner} {adjective.english} {en_noun}.",
                f"{SUBJECTS[subject]} {fr_det} {fr_noun} {adj}.")
    raise ValueError(f"unknown pattern {pattern!r}: 'is' or 'sees'")


def _all_sentences() -> list[tuple[str, str, str]]:
    """(English, French, held_out) for every sentence the grammar makes, in a fixed order."""
    out = []
    for noun in NOUNS:
        for adjective in ADJECTIVES:
            if noun.english in HELD_OUT_NOUNS or adjective.english in HELD_OUT_ADJECTIVES:
                kind = "word"
            else:
                kind = "combination" if held_out_pair(noun, adjective) else ""
            for plural in (False, True):
                out.append((*translate("is", noun, adjective, plural=plural), kind))
            for subject in SUBJECTS:
                for determiner, plural in DETERMINERS:
                    out.append((*translate("sees", noun, adjective, plural=plural, subject=subject,
                                           determiner=determiner), kind))
    return out


def made_translations(n: int = 400, seed: int = 0, n_eval: int = 40) -> hf_datasets.DatasetDict:
    """Train (`n` rows), validation and test (`n_eval` rows each, half new combinations, half new words).

    MADE DATA (see the module docstring). Columns: `messages` (a user prompt "Translate to French: ..." and
    the assistant's French), `english`, `french`, `held_out` ("", "combination" or "word") and `source`.
    The same seed gives the same rows.
    """
    rng = random.Random(seed)
    pools: dict[str, list[tuple[str, str, str]]] = {"": [], "combination": [], "word": []}
    for row in _all_sentences():
        pools[row[2]].append(row)
    for pool in pools.values():
        rng.shuffle(pool)
    half = n_eval // 2
    if n > len(pools[""]) or n_eval - half > min(len(pools["combination"]), len(pools["word"])) // 2:
        raise ValueError(f"n={n}, n_eval={n_eval}: the grammar makes {len(pools[''])} training sentences and "
                         f"{len(pools['combination'])} + {len(pools['word'])} held-out ones")
    # validation takes the first rows of each held-out pool, test the next ones: no sentence is in both
    splits = {"train": pools[""][:n],
              "validation": pools["combination"][:half] + pools["word"][:n_eval - half],
              "test": (pools["combination"][half:2 * half] + pools["word"][n_eval - half:2 * (n_eval - half)])}
    return hf_datasets.DatasetDict({name: _rows(rows) for name, rows in splits.items()})


def _rows(rows: list[tuple[str, str, str]]) -> hf_datasets.Dataset:
    return hf_datasets.Dataset.from_dict({
        "messages": [[{"role": "user", "content": PROMPT.format(english=en)}, {"role": "assistant", "content": fr}]
                     for en, fr, _ in rows],
        "english": [en for en, _, _ in rows], "french": [fr for _, fr, _ in rows],
        "held_out": [kind for _, _, kind in rows], "source": [SOURCE] * len(rows)})
