// Floating-point operations of the seed CNN per sample (2 per multiply-add of its convolutions and
// linear layers; batch norm, pooling, dropout and Adam are not counted: they are memory-bound and
// small). A training step is the forward pass plus the backward pass without conv1's input
// gradient (the images need none): the "effective GFLOP/s" of bench:train is samples/s times this.

const conv1 = 2 * (28 * 28) * 32 * (1 * 3 * 3);
const conv2 = 2 * (14 * 14) * 64 * (32 * 3 * 3);
const fc1 = 2 * 3136 * 128;
const fc2 = 2 * 128 * 10;

/** Forward pass per sample: 8.48 MFLOP. */
export const SEED_CNN_FORWARD_FLOPS = conv1 + conv2 + fc1 + fc2;

/** Training step per sample: forward + weight gradients of every layer + input gradients of every
 *  layer but conv1: 25.0 MFLOP. */
export const SEED_CNN_TRAIN_FLOPS = 2 * conv1 + 3 * conv2 + 3 * fc1 + 3 * fc2;
