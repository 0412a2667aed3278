"""Run under torchrun: trains as a config file says with a LiveMonitor fed from rank 0.

Every rank trains; rank 0 alone gets the monitor (sftkit.train runs display callbacks on
rank 0 only) and writes the monitor's final records next to the run folder. With
STOP_AT_STEP set, rank 0 presses the monitor's Stop at that step, as a user would.
"""

import json
import os
import sys
from pathlib import Path

import sftkit
from widgets import LiveMonitor

config = sftkit.TrainConfig.from_file(sys.argv[1])
monitor = LiveMonitor()


class PressStop(sftkit.Callback):
    def on_step_end(self, trainer, state, control):
        if state.step == int(os.environ.get("STOP_AT_STEP", "0")):
            monitor.stop()


result = sftkit.train(config, callbacks=[monitor.callback(), PressStop()])
if result.trainer.dist.is_main:
    out = Path(config.output_dir) / "monitor.json"
    out.write_text(json.dumps({"records": monitor._records, "repr": repr(monitor),
                               "rank": result.trainer.dist.rank, "world": result.trainer.dist.world_size}))
