"""Analysis of trained models: attention maps, amino-acid similarity, contacts, embeddings.

Each module returns dataclasses and numpy arrays; figures are drawn by `protein_performer.plots`.
"""
