"""Host-side code: golden model, drivers, differential runner, replay, waveforms."""
