"""
A first Latent Equilibrium network
==================================

placeholder
"""
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
