"""The Flax/Haiku kernel initializers behind :mod:`jaxinit.initializers`.

``base`` holds :class:`~jaxinit.initializers.KernelInitializer` and the
argument checks every builder shares; ``recurrent`` the two recurrent
builders; ``random`` the four scheme builders; ``arrays`` ``from_params``.
"""
