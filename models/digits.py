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
    learning_rates=[1000 * Hz, 1000 * Hz],  # tuned: 300 / 1000 / 3000 Hz
    lr_decay=0.9,
    epochs=15,
)

# Backprop baseline, same 64-100-10 network (online SGD; lr 0.005 / 0.01 / 0.02 / 0.05 gave
# validation accuracy 0.973 / 0.980 / 0.983 / 0.960 after 15 epochs).
BACKPROP = dict(learning_rate=0.02, lr_decay=0.9, epochs=15)
