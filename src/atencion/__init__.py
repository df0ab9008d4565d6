"""atencion: attention mechanisms in PyTorch, the tested library behind the book
«Mecanismos de atención» / «Attention Mechanisms».

Submodules (one concept each): :mod:`atencion.functional` (scaled dot-product
attention, masked softmax), :mod:`atencion.masks` (padding, causal, graph and
grid masks), :mod:`atencion.rnn` (score functions and a GRU encoder–decoder
with attention), :mod:`atencion.attention` (self-attention, a set scorer),
:mod:`atencion.graph` (graph attention networks, convolution as aggregation),
:mod:`atencion.positional` (sinusoidal, learned, relative, rotary and ALiBi
positions), :mod:`atencion.norm` (layer and RMS normalisation, feed-forward
networks), :mod:`atencion.heads` (multi-head attention),
:mod:`atencion.transformer` (encoder and decoder blocks, a small sequence model),
:mod:`atencion.seq2seq` (the encoder–decoder transformer, greedy and beam-search decoding),
:mod:`atencion.tokenization` (subword tokenizers trained on a split),
:mod:`atencion.vision` (patch embedding, a vision transformer, attention rollout),
:mod:`atencion.ctc` (connectionist temporal classification: loss and greedy decoding),
:mod:`atencion.bert` (a BERT-style encoder and its masked-language-model head),
:mod:`atencion.audio` (mel filterbank and log-mel spectrograms),
:mod:`atencion.generation` (greedy decoding, sampling, key-value cache),
:mod:`atencion.sparse` (sliding-window, tiled and Linformer attention; the sparse
patterns are in :mod:`atencion.masks`), :mod:`atencion.data` (data generated in code
or shipped by a package, one module per source), :mod:`atencion.train`,
:mod:`atencion.gradients` (attention's backward pass by hand),
:mod:`atencion.optim` (SGD, Adam/AdamW, the Noam schedule),
:mod:`atencion.metrics`, :mod:`atencion.plot`, :mod:`atencion.fmt` (numbers as each
edition writes them) and :mod:`atencion.profiling`.
"""

__version__ = "0.1.0"
