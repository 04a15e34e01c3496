"""LE LeNet-5 on CIFAR-10 (the paper's Fig. 2e; needs the python batches of
cifar-10-batches-py, `--data-path` or $LE_BRIAN_DATA/cifar10): the MNIST LeNet-5 with 3
input channels (32 -> 28 -> 14 -> 10 -> 5: dense 1250 -> 500 -> 10) and T = 0.5 tau
(docs/model.md §3.3)."""

from brian2 import Hz, ms

TRAINING = dict(
    dataset="cifar10",
    image_shape=[3, 32, 32],
    conv="c20k5,m2,c50k5,m2",
    hidden=[500],
    activation="hard_sigmoid",
    output_activation="linear",
    target_type="rate",
    tau_m=10 * ms,
    presentation_time=5 * ms,  # T = 0.5 tau (50 updates per sample)
    dt=0.1 * ms,
    beta=0.1,
    # the MNIST rates (lenet5_mnist5k) times 2: the same change per sample in half the
    # updates (docs/model.md §1.6)
    learning_rates=[200 * Hz, 20 * Hz, 20 * Hz, 20 * Hz],
    epochs=10,
    device="cpp_standalone",
)

# Backprop baseline, same LeNet-5 (NumPy, online SGD, scripts/fig_conv.py): the LE rates
# times T * beta (the same step per sample: 100 Hz * 10 ms * 0.1 = 0.1 for conv 1, 0.01
# for the later layers). Checked on lenet5_mnist5k, 400 training / 200 test images, 2 epochs:
# test accuracy 0.88 / 0.89 (these rates), 0.845 / 0.87 (0.01 everywhere), 0.85 / 0.915
# (0.03), 0.77 / 0.865 (0.1).
BACKPROP = dict(learning_rate=[0.1, 0.01, 0.01, 0.01], epochs=10)
