// Exports: the synthetic writers (example .ear, safetensors checkpoints) that tests use through this module.
@_exported import EarshotSynthetic
