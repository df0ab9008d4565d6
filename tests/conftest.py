import matplotlib
import torch

matplotlib.use("Agg")
# Small tensors: one thread avoids oversubscribing a 2-core machine (gradcheck slows 40x otherwise).
torch.set_num_threads(1)
