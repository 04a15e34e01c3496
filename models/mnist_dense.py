"""The paper's dense MNIST network (docs/model.md §3.2; needs the MNIST IDX files,
`--data-path` or $LE_BRIAN_DATA/mnist)."""

from brian2 import Hz, ms

TRAINING = dict(
    dataset="mnist",
    hidden=[300, 100],  # 784-300-100-10
    activation="hard_sigmoid",  # derivative 1 on [0, 1], ends included
    output_activation="linear",
    tau_m=20 * ms,  # tau_r = tau_m = 20 ms
    presentation_time=1 * ms,  # T = tau / 20 (100 updates per sample)
    dt=0.01 * ms,
    beta=0.1,
    # the authors' rate 16 per ms times the per-layer factors [1, 0.2, 0.1]
    learning_rates=[16000 * Hz, 3200 * Hz, 1600 * Hz],
    weight_scale=0.05,  # weights and biases ~ N(0, 0.05)
    epochs=100,
)
