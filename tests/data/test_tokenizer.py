import numpy as np
import pytest

from protein_performer import constants
from protein_performer.data.tokenizer import Alphabet, InvalidResidueError


def test_exact_token_ids():
    assert constants.VOCAB == {
        "<pad>": 0, "<mask>": 1, "<cls>": 2, "<eos>": 3, "<unk>": 4,
        "A": 5, "C": 6, "D": 7, "E": 8, "F": 9, "G": 10, "H": 11, "I": 12, "K": 13, "L": 14,
        "M": 15, "N": 16, "P": 17, "Q": 18, "R": 19, "S": 20, "T": 21, "V": 22, "W": 23,
        "Y": 24, "X": 25, "B": 26, "Z": 27, "U": 28, "O": 29,
    }  # fmt: skip
    assert (constants.PAD_ID, constants.MASK_ID, constants.CLS_ID, constants.EOS_ID) == (
        0,
        1,
        2,
        3,
    )
    assert constants.BOS_ID == constants.CLS_ID and constants.UNK_ID == 4
    assert constants.VOCAB_SIZE == 30


def test_encode_frames_with_cls_and_eos():
    ids = Alphabet().encode("MKVXBZUO")
    assert ids.dtype == np.int8
    assert ids.tolist() == [2, 15, 13, 22, 25, 26, 27, 28, 29, 3]
    assert Alphabet().encode("MKV", add_special=False).tolist() == [15, 13, 22]


def test_lowercase_and_bytes_are_accepted():
    alphabet = Alphabet()
    assert alphabet.encode("mkv").tolist() == alphabet.encode("MKV").tolist()
    assert alphabet.encode(b"MkV").tolist() == alphabet.encode("MKV").tolist()


def test_decode_roundtrip():
    alphabet = Alphabet()
    seq = "ACDEFGHIKLMNPQRSTVWYXBZUO"
    assert alphabet.decode(alphabet.encode(seq)) == seq
    assert alphabet.decode([2, 5, 3], strip_special=False) == "<cls>A<eos>"


def test_invalid_character_names_record_and_position():
    with pytest.raises(InvalidResidueError, match=r"rec1: invalid residue 'J' at position 3") as e:
        Alphabet().encode("MKJV", where="rec1")
    assert (e.value.position, e.value.char) == (3, "J")
    with pytest.raises(InvalidResidueError, match="position 2"):
        Alphabet().encode("Mé")


def test_unknown_x_maps_other_characters_to_x():
    assert Alphabet(unknown="x").encode("M-J*", add_special=False).tolist() == [15, 25, 25, 25]
    with pytest.raises(ValueError, match="unknown must be"):
        Alphabet(unknown="drop")  # type: ignore[arg-type]
