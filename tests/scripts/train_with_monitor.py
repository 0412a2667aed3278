"""Run under torchrun: trains as a config file says with a LiveMonitor fed from rank 0.

Every rank trains; rank 0 alone gets the monitor (sftkit.train runs display callbacks on
rank 0 only) and writes the monitor's final records next to the run folder.
"""

import json
import sys
from pathlib import Path

import sftkit
from widgets import LiveMonitor

config = sftkit.TrainConfig.from_file(sys.argv[1])
monitor = LiveMonitor()
result = sftkit.train(config, callbacks=[monitor.callback()])
if result.trainer.dist.is_main:
    out = Path(config.output_dir) / "monitor.json"
    out.write_text(json.dumps({"records": monitor._records, "repr": repr(monitor),
                               "rank": result.trainer.dist.rank, "world": result.trainer.dist.world_size}))
