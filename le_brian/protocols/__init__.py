"""Protocols: what is done with a network (tasks, training, the demo), apart from the
models themselves. Defaults come from the parameter sets in `le_brian.models`.

* `le_brian.protocols.training`: continuous training of `LENetwork` classifiers and
  regressors into run folders (`le-brian train`);
* `le_brian.protocols.demo`: the teacher-student demo (`le-brian demo`);
* `le_brian.protocols.bars`, `le_brian.protocols.mimic`,
  `le_brian.protocols.classification`: the microcircuit tasks;
* `le_brian.protocols.presentation`: the epoch order shared by the microcircuit tasks;
* `le_brian.protocols.accuracy_vs_T`: test accuracy against presentation time, LE vs
  lagged vs backprop (the Fig. 2b-e scripts).
"""
