"""Small data sets made by the project, for tasks that no installed package ships data for.

MADE DATA: every sentence here comes from templates and name lists written for this course, not from real
text; each row says so in its `source` column. It teaches the mechanics of a task and measures whether a
model generalises beyond the names it was trained on; it says nothing about accuracy on real documents.
"""

from __future__ import annotations

import random
from typing import Any

import datasets as hf_datasets

from sftkit.data.spans import bio_spans

NER_TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
NER_SOURCE = "made: sftkit.data.made.made_ner (templates and name lists, not real text)"

# Names are tuples of words. Every list is cut in two by a fixed rule (see _pools): one part may appear in
# every split, the other only in validation and test, so that test sentences partly hold names never seen
# in training.
FIRST_NAMES = [
    "Ada", "Amara", "Bilal", "Carmen", "Chen", "Dmitri", "Elena", "Femi", "Grace", "Hiroshi", "Ines", "Jonas",
    "Kavya", "Lars", "Leila", "Mateo", "Mei", "Nadia", "Omar", "Priya", "Rafael", "Sana", "Tomasz", "Uma",
    "Viktor", "Wanjiru", "Yusuf", "Zofia", "Aiko", "Bruno", "Chidi", "Dalia", "Emil", "Farah", "Goran",
    "Hana", "Ivan", "Jamal", "Katrin", "Luca",
]
LAST_NAMES = [
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Kowalski", "Silva", "Nguyen", "Petrov", "Mensah",
    "Fischer", "Rossi", "Khan", "Novak", "Achebe", "Larsen", "Costa", "Ibrahim", "Park", "Schmidt", "Duarte",
    "Kariuki", "Volkov", "Berg", "Alvarez", "Sato", "Osei", "Weber", "Romero", "Castillo", "Dubois", "Ahmed",
    "Horvat", "Jensen", "Mwangi", "Quispe", "Yilmaz", "Eriksen", "Banerjee", "O'Neill",
]
ORGANISATIONS = [
    ("Northwind", "Bank"), ("Helix", "Pharmaceuticals"), ("Orion", "Airlines"), ("Bluefin", "Logistics"),
    ("the", "Global", "Health", "Council"), ("Riverside", "Hospital"), ("Meridian", "Energy"),
    ("Acme", "Corporation"), ("Sunvale", "University"), ("Kestrel", "Motors"), ("Atlas", "Insurance"),
    ("Greenleaf", "Foods"), ("Polaris", "Telecom"), ("the", "Harbour", "Trust"), ("Vantage", "Capital"),
    ("Cobalt", "Systems"), ("Silverline", "Rail"), ("Nimbus", "Software"), ("Redwood", "Press"),
    ("the", "National", "Theatre"), ("Lumen", "Labs"), ("Granite", "Construction"), ("Tidewater", "Shipping"),
    ("Beacon", "Media"), ("Summit", "Pharma"), ("Falcon", "Aerospace"), ("Ironbridge", "Steel"),
    ("Coral", "Reef", "Foundation"), ("Evergreen", "Bank"), ("Quantum", "Dynamics"),
]
PLACES = [
    ("Lisbon",), ("Nairobi",), ("Osaka",), ("Lima",), ("Oslo",), ("Accra",), ("Krakow",), ("Montreal",),
    ("Hanoi",), ("Tbilisi",), ("New", "Zealand"), ("Cape", "Town"), ("Buenos", "Aires"), ("Kuala", "Lumpur"),
    ("Reykjavik",), ("Marrakesh",), ("Seville",), ("Tallinn",), ("Dhaka",), ("Quito",), ("Perth",),
    ("Lagos",), ("Zurich",), ("Valparaiso",), ("Ghent",), ("Bergen",), ("Mombasa",), ("Porto",), ("Chennai",),
    ("Salzburg",), ("Ljubljana",), ("Rio", "de", "Janeiro"),
]
# Capitalised words that are not entities: a model must not tag a word for its capital letter alone.
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November", "December"]

# Templates: words separated by spaces, slots in braces. {PER} is a full or short personal name, {ORG} an
# organisation, {LOC} a place; {DAY} and {MONTH} fill in words that are not entities.
TEMPLATES = [
    "{PER} joined {ORG} in {MONTH} .",
    "{PER} flew from {LOC} to {LOC} on {DAY} .",
    "On {DAY} , {ORG} opened a new office in {LOC} .",
    "{ORG} appointed {PER} as chief executive .",
    "The talks between {ORG} and {ORG} ended without a deal .",
    "{PER} grew up in {LOC} and later moved to {LOC} .",
    "According to {PER} , sales at {ORG} rose sharply last year .",
    "Shares of {ORG} fell after the announcement in {LOC} .",
    "{PER} met {PER} at a conference in {LOC} .",
    "A spokesperson for {ORG} declined to comment .",
    "Heavy rain closed several roads around {LOC} on {DAY} .",
    "{PER} , a researcher at {ORG} , published the results in {MONTH} .",
    "Dr. {LAST} said the hospital in {LOC} needs more nurses .",
    "The mayor of {LOC} thanked {PER} for the donation .",
    "{ORG} will build a factory near {LOC} next year .",
    "In {MONTH} , {PER} left {ORG} to start a company .",
    "Visitors to {LOC} often take the train to {LOC} .",
    "{PER} won the prize for a novel set in {LOC} .",
    "Ms. {LAST} told reporters that {ORG} would appeal .",
    "The concert in {LOC} was cancelled on {DAY} .",
    "Engineers from {ORG} and {ORG} tested the new engine .",
    "{PER} and {PER} signed the agreement in {LOC} .",
    "Prices rose again in {MONTH} , the report said .",
    "The committee met on {DAY} and approved the budget .",
    "After ten years at {ORG} , {PER} returned to {LOC} .",
    "{LOC} hosted the summit , and {PER} gave the opening speech .",
    "Mr. {LAST} bought a small house outside {LOC} .",
    "{ORG} reported record profits for the year .",
    "Fans waited for hours to see {PER} arrive in {LOC} .",
    "Students at {ORG} protested against higher fees on {DAY} .",
    "The ferry from {LOC} was delayed by the storm .",
    "Nobody expected {PER} to resign so soon .",
    "{PER} has worked for {ORG} since {MONTH} .",
    "Her brother moved to {LOC} to work for {ORG} .",
    "A new bridge will connect {LOC} with the airport by {MONTH} .",
    "Police in {LOC} are looking for two witnesses .",
    "The board of {ORG} met {PER} on {DAY} .",
    "It was the first time {PER} had visited {LOC} .",
    "Local farmers sold their harvest to {ORG} .",
    "The weather was calm all week .",
]
# Sentence patterns never used for training: the validation and test scores then also measure whether
# the model learned the task rather than the templates' word order.
HELD_OUT_TEMPLATES = [
    "Last {MONTH} , {ORG} hired {PER} to lead its team in {LOC} .",
    "{PER} , who was born in {LOC} , now teaches at {ORG} .",
    "Critics praised {PER} after the premiere in {LOC} .",
    "Inspectors from {ORG} visited the port of {LOC} on {DAY} .",
    "The new director of {ORG} , {PER} , starts in {MONTH} .",
    "Two trains collided near {LOC} early on {DAY} .",
    "{ORG} and {PER} settled the dispute out of court .",
    "Tourists returning from {LOC} praised the food .",
]


def _pools(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """(seen, held out): every fourth item (from the second on) is held out of training."""
    return ([x for i, x in enumerate(items) if i % 4 != 1], [x for i, x in enumerate(items) if i % 4 == 1])


def _person(rng: random.Random, first: list[str], last: list[str]) -> tuple[str, ...]:
    style = rng.random()
    if style < 0.6:
        return (rng.choice(first), rng.choice(last))
    if style < 0.8:
        return (rng.choice(first),)
    return (rng.choice(last),)


def _sentence(template: str, rng: random.Random, pools: dict[str, list[Any]]) -> tuple[list[str], list[str]]:
    words: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        if piece in ("{DAY}", "{MONTH}"):
            words.append(rng.choice(DAYS if piece == "{DAY}" else MONTHS))
            tags.append("O")
            continue
        if piece == "{PER}":
            name, kind = _person(rng, pools["first"], pools["last"]), "PER"
        elif piece == "{LAST}":  # after a title (Dr., Ms., Mr.): the title itself is not part of the name
            name, kind = (rng.choice(pools["last"]),), "PER"
        elif piece == "{ORG}":
            name, kind = rng.choice(pools["org"]), "ORG"
        elif piece == "{LOC}":
            name, kind = rng.choice(pools["loc"]), "LOC"
        else:
            words.append(piece)
            tags.append("O")
            continue
        if kind == "ORG" and name[0] == "the":  # "the" stays outside the entity: "the [ORG Harbour Trust]"
            words.append("the" if words else "The")
            tags.append("O")
            name = name[1:]
        words.extend(name)
        tags.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(name) - 1))
    return words, tags


def made_ner(*, n_train: int = 500, n_validation: int = 100, n_test: int = 200, seed: int = 0
             ) -> hf_datasets.DatasetDict:
    """MADE named-entity data (BIO tags for PER, ORG, LOC): `tokens` (words), `tags` (ClassLabel ids),
    `source` (says the row is made), `template` (the pattern's number) and `new_names` (how many of the
    row's entities have a name that never occurs in train).

    Train sentences draw names from three quarters of each name list and use the first templates only;
    validation and test draw each name from the held-out quarter half the time and use a held-out
    template one time in four, so their scores measure generalisation, not recall of the name lists.
    """
    rng = random.Random(seed)
    seen, held = {}, {}
    for key, items in (("first", FIRST_NAMES), ("last", LAST_NAMES), ("org", ORGANISATIONS), ("loc", PLACES)):
        seen[key], held[key] = _pools(items)
    templates = TEMPLATES + HELD_OUT_TEMPLATES
    features = hf_datasets.Features({
        "tokens": hf_datasets.Sequence(hf_datasets.Value("string")),
        "tags": hf_datasets.Sequence(hf_datasets.ClassLabel(names=NER_TAGS)),
        "source": hf_datasets.Value("string"),
        "template": hf_datasets.Value("int32"),
        "new_names": hf_datasets.Value("int32"),
    })
    train_names: set[tuple[str, ...]] = set()
    splits = {}
    for split, n in (("train", n_train), ("validation", n_validation), ("test", n_test)):
        rows: dict[str, list[Any]] = {name: [] for name in features}
        for _ in range(n):
            if split == "train":
                index, pools = rng.randrange(len(TEMPLATES)), seen
            else:
                index = (len(TEMPLATES) + rng.randrange(len(HELD_OUT_TEMPLATES)) if rng.random() < 0.25
                         else rng.randrange(len(TEMPLATES)))
                pools = held if rng.random() < 0.5 else seen
            words, tags = _sentence(templates[index], rng, pools)
            names = _entity_names(words, tags)
            if split == "train":
                train_names.update(names)
            rows["tokens"].append(words)
            rows["tags"].append([NER_TAGS.index(t) for t in tags])
            rows["source"].append(NER_SOURCE)
            rows["template"].append(index)
            rows["new_names"].append(sum(name not in train_names for name in names))
        info = hf_datasets.DatasetInfo(description=NER_SOURCE, dataset_name="made_ner", features=features)
        splits[split] = hf_datasets.Dataset.from_dict(rows, features=features, info=info)
    return hf_datasets.DatasetDict(splits)


def _entity_names(words: list[str], tags: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[start:end]) for _, start, end in bio_spans(tags)]
