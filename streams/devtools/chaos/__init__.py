"""``parcelwatch chaos``: a fault-injection suite that proves parcelwatch's delivery promises.

It runs real worker processes against a Kafka broker of its own (it restarts that broker as a
fault), feeds them simulated journeys and hostile input, and checks that every input is applied,
counted as a duplicate or dead-lettered, and that no crash loses or invents an output:

* ``crash_loop``: SIGKILLs and a broker restart while a backlog drains, compared with an
  undisturbed run of the same input and with the offline replay;
* ``bad_input``: hypothesis-generated invalid messages and poison keys/values among good journeys;
* ``soak``: a steady rate for a while, watching the worker's memory and its input lag.
"""
