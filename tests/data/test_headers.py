from protein_performer.data.headers import parse_header


def test_swissprot_header():
    h = parse_header(
        ">sp|P00974|BPT1_BOVIN Pancreatic trypsin inhibitor OS=Bos taurus OX=9913 GN=APP PE=1 SV=2"
    )
    assert (h.db, h.accession, h.entry_name) == ("sp", "P00974", "BPT1_BOVIN")
    assert h.description == "Pancreatic trypsin inhibitor"
    assert (h.organism, h.taxon_id, h.cluster_id) == ("Bos taurus", 9913, None)
    assert h.split_key == "P00974"


def test_trembl_header_with_parenthesised_organism_and_isoform():
    h = parse_header(
        "tr|A0A509ANH8-2|A0A509ANH8_PLABA Fam-b protein OS=Plasmodium berghei (strain Anka) "
        "OX=5823 GN=PBANKA_1100441 PE=4 SV=1"
    )
    assert (h.db, h.accession, h.taxon_id) == ("tr", "A0A509ANH8-2", 5823)
    assert h.organism == "Plasmodium berghei (strain Anka)"
    assert h.description == "Fam-b protein"
    assert h.split_key == "A0A509ANH8"  # isoforms share their canonical entry's split


def test_uniref_header():
    h = parse_header(
        ">UniRef50_Q9Y6K9 NF-kappa-B essential modulator n=412 Tax=Amniota TaxID=32524 "
        "RepID=NEMO_HUMAN"
    )
    assert (h.db, h.accession, h.entry_name) == ("UniRef50", "Q9Y6K9", "NEMO_HUMAN")
    assert (h.cluster_id, h.cluster_size) == ("UniRef50_Q9Y6K9", 412)
    assert (h.organism, h.taxon_id) == ("Amniota", 32524)
    assert h.description == "NF-kappa-B essential modulator"
    assert h.split_key == "UniRef50_Q9Y6K9"


def test_generic_header_falls_back_to_first_word():
    h = parse_header(">my_protein some description")
    assert (h.db, h.accession, h.description, h.taxon_id) == (
        "",
        "my_protein",
        "some description",
        None,
    )
    assert h.split_key == "my_protein"
