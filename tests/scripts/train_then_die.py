"""Trains as a config file says and kills its own process (SIGKILL, no clean-up) at DIE_AT_STEP."""

import os
import signal
import sys

import sftkit


class Die(sftkit.Callback):
    def on_step_end(self, trainer, state, control):
        if state.step == int(os.environ["DIE_AT_STEP"]):
            os.kill(os.getpid(), signal.SIGKILL)


sftkit.train(sftkit.TrainConfig.from_file(sys.argv[1]), callbacks=[Die()])
