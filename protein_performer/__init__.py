"""protein_performer: protein language models with linear-time Performer (FAVOR+) attention.

Reference: Choromanski et al., "Rethinking Attention with Performers", ICLR 2021
(arXiv 2009.14794).
"""

__version__ = "0.1.0"
