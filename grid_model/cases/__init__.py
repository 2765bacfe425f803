"""The case closed loop (办案闭环): the steps and who may take them (:mod:`.steps`), the one
writer (:mod:`.workflow`), time limits (:mod:`.limits`), the mediation case file
(:mod:`.mediation`), the indicators read from the steps (:mod:`.indicators`) and the
reminders (:mod:`.reminders`)."""
