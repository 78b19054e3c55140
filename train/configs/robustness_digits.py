"""Adversarial robustness study on digits: softmax regression, CNN, PGD-trained CNN, RBF net, Parzen."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    """Returns the recipe's `ml_collections.ConfigDict`; each field's comment says what it sets."""
    c = ml_collections.ConfigDict()
    c.study = "interpret.robustness"   # module whose run_study() runs this recipe
    c.dataset = "digits"               # bundled image dataset with labels
    c.data_dir = ""                    # TFDS data dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    c.test_split = "test"              # split the attacks are evaluated on
    c.seed = 0                         # training seeds and attack random starts
    c.precision = "fp32"               # fp32 | bf16 | fp16 compute of the trained models
    c.num_steps = 1200                 # training steps of every trained model
    c.pretrained = False               # evaluate the models shipped with the zoo (robustness_digits_NAME) instead
    c.epsilons = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)  # L-infinity budgets (pixels in [0, 1])
    c.pgd_steps = 40                   # PGD iterations (step size 2.5 eps / steps)
    c.pgd_restarts = 5                 # PGD random restarts; an example counts as broken if any succeeds
    c.transfer_eps = 0.2               # epsilon of the transfer matrix (one of epsilons)
    c.linearity_eps = 0.25             # range of the logits-versus-epsilon curves (+-)
    c.adv_eps = 0.2                    # adversarial training budget
    c.adv_steps = 7                    # PGD steps inside each adversarial training step
    c.rbf_centers = 100                # Gaussian units of the RBF network
    c.rbf_learning_rate = 0.03         # its Adam learning rate
    c.parzen_sigmas = (0.2, 0.3, 0.5, 0.8, 1.2)  # Parzen bandwidths, the best on a held-out fifth is used
    return c
