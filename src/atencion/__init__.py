"""atencion: attention mechanisms in PyTorch, the tested library behind the book
«Mecanismos de atención» / «Attention Mechanisms».

Submodules (one concept each): :mod:`atencion.functional` (scaled dot-product
attention, masked softmax), :mod:`atencion.masks`, :mod:`atencion.rnn` (score
functions and a GRU encoder–decoder with attention), :mod:`atencion.data`
(tasks generated in code), :mod:`atencion.train` and :mod:`atencion.plot`.
"""

__version__ = "0.1.0"
