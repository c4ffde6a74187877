"""``parcelwatch bench``: parcelwatch's throughput against a plain-aiokafka ceiling and a
forwarding Faust floor, on one pre-produced simulated backlog, plus latency, start-up, memory,
state size and recovery figures. Every contender runs in its own OS process, one at a time."""
