"""UniProt and UniRef FASTA header fields.

UniProtKB (https://www.uniprot.org/help/fasta-headers):

    >sp|P00974|BPT1_BOVIN Pancreatic trypsin inhibitor OS=Bos taurus OX=9913 GN=... PE=1 SV=2
    >tr|A0A509ANH8|A0A509ANH8_PLABA Fam-b protein OS=Plasmodium berghei (strain Anka) OX=5823 ...

UniRef (https://www.uniprot.org/help/uniref):

    >UniRef50_Q9Y6K9 NF-kappa-B essential modulator n=412 Tax=Amniota TaxID=32524 RepID=NEMO_HUMAN

Anything else falls back to "the first word is the identifier", so plain FASTA files still work;
they simply carry no taxon and cannot be held out by taxon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `OS=` runs until the next ` XX=` key; descriptions themselves may contain '=' rarely, so the
# keys are matched as whole upper-case words preceded by a space.
_UNIPROT_KEY = re.compile(r" (OS|OX|GN|PE|SV)=")
_UNIREF_KEY = re.compile(r" (n|Tax|TaxID|RepID)=")
_UNIREF_ID = re.compile(r"^(UniRef(?:100|90|50))_(\S+)$")


@dataclass(frozen=True)
class HeaderInfo:
    """Fields of one header; `None` where the header format does not carry the field."""

    db: str  # "sp", "tr", "UniRef50"/"UniRef90"/"UniRef100", or "" for a generic header
    accession: str  # the UniProt accession (isoform suffix kept), or the first word
    entry_name: str | None  # e.g. BPT1_BOVIN; for UniRef the RepID
    description: str
    organism: str | None  # OS= (UniProt) or Tax= (UniRef, the cluster's common taxon)
    taxon_id: int | None  # OX= (UniProt) or TaxID= (UniRef)
    cluster_id: str | None = None  # e.g. UniRef50_Q9Y6K9
    cluster_size: int | None = None  # UniRef n=

    @property
    def split_key(self) -> str:
        """The identity used to assign a split: the cluster when there is one (so members of a
        cluster never straddle splits), else the accession without its isoform suffix (so
        P12345 and P12345-2 land together)."""
        if self.cluster_id is not None:
            return self.cluster_id
        return self.accession.split("-", 1)[0] if self.db in ("sp", "tr") else self.accession


def _key_values(text: str, pattern: re.Pattern[str]) -> tuple[str, dict[str, str]]:
    """Split 'desc K1=v1 K2=v2' into ('desc', {K1: v1, K2: v2})."""
    matches = list(pattern.finditer(text))
    if not matches:
        return text.strip(), {}
    fields = {}
    for m, nxt in zip(matches, matches[1:] + [None], strict=True):
        end = nxt.start() if nxt is not None else len(text)
        fields[m.group(1)] = text[m.end() : end].strip()
    return text[: matches[0].start()].strip(), fields


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def parse_header(header: str) -> HeaderInfo:
    """Parse a FASTA header (with or without the leading '>')."""
    text = header[1:] if header.startswith(">") else header
    first, _, rest = text.strip().partition(" ")
    parts = first.split("|")
    if len(parts) >= 3 and parts[0] in ("sp", "tr"):
        description, fields = _key_values(" " + rest, _UNIPROT_KEY)
        return HeaderInfo(
            db=parts[0],
            accession=parts[1],
            entry_name=parts[2] or None,
            description=description,
            organism=fields.get("OS"),
            taxon_id=_int_or_none(fields.get("OX")),
        )
    uniref = _UNIREF_ID.match(first)
    if uniref is not None:
        description, fields = _key_values(" " + rest, _UNIREF_KEY)
        return HeaderInfo(
            db=uniref.group(1),
            accession=uniref.group(2),
            entry_name=fields.get("RepID"),
            description=description,
            organism=fields.get("Tax"),
            taxon_id=_int_or_none(fields.get("TaxID")),
            cluster_id=first,
            cluster_size=_int_or_none(fields.get("n")),
        )
    return HeaderInfo(
        db="",
        accession=first,
        entry_name=None,
        description=rest.strip(),
        organism=None,
        taxon_id=None,
    )
