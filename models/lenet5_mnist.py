"""LE LeNet-5 on the full MNIST (the paper's Fig. 2d; needs the MNIST IDX files,
`--data-path` or $LE_BRIAN_DATA/mnist). Settings as `lenet5_mnist5k` (docs/model.md
§3.3)."""

from brian2 import Hz, ms

TRAINING = dict(
    dataset="mnist",
    image_shape=[1, 28, 28],
    conv="c20k5,m2,c50k5,m2",  # conv 1 -> 20 (5x5), max-pool 2, conv 20 -> 50, max-pool 2
    hidden=[500],  # dense 800 -> 500 -> 10
    activation="hard_sigmoid",
    output_activation="linear",
    target_type="rate",
    tau_m=10 * ms,
    presentation_time=10 * ms,  # T = tau
    dt=0.1 * ms,
    beta=0.1,
    # the authors' 1600 / 160 Hz (mini-batches of 512) divided by 16 for online learning,
    # as in lenet5_mnist5k
    learning_rates=[100 * Hz, 10 * Hz, 10 * Hz, 10 * Hz],
    epochs=10,
    device="cpp_standalone",
)

# Backprop baseline, same LeNet-5 (NumPy, online SGD, scripts/fig_conv.py): the LE rates
# times T * beta (the same step per sample: 100 Hz * 10 ms * 0.1 = 0.1 for conv 1, 0.01
# for the later layers). Checked on lenet5_mnist5k, 400 training / 200 test images, 2 epochs:
# test accuracy 0.88 / 0.89 (these rates), 0.845 / 0.87 (0.01 everywhere), 0.85 / 0.915
# (0.03), 0.77 / 0.865 (0.1).
BACKPROP = dict(learning_rate=[0.1, 0.01, 0.01, 0.01], epochs=10)
