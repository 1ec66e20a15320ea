def seed_pairing(stdout, scale):
    pass
