"""scikit-learn's 8x8 digits (embedded): 64 inputs in [0, 1], 10 classes."""

from brian2 import Hz, ms

TRAINING = dict(
    dataset="digits",  # 1197 train / 300 val / 300 test, seeded shuffle
    hidden=[100],
    activation="tanh",
    output_activation="linear",
    tau_m=10 * ms,
    presentation_time=1 * ms,
    dt=0.1 * ms,
    beta=0.1,
    learning_rates=[500 * Hz, 500 * Hz],
    lr_decay=0.9,
    epochs=15,
)
