# vgic: GICv2 virtual interface. `make run` (main job) and `make test` work on a
# fresh machine: they install what they need first.
PY    ?= python3
PIP   ?= $(PY) -m pip
N     ?= 20000
LRS   ?= 4
CPUS  ?= 1
ARCH  ?= v2
BUS   ?= axi4lite
BUILD ?= build
# make test: pytest worker processes (pytest-xdist; a test file stays on one worker)
JOBS  ?= 2

.PHONY: help setup run test docs fuzz verilog bench-hw bench-sim bench-replay bench-throughput formal clean

help:
	@echo "make run        replay the example trace on the model and the RTL, write build/example.vcd"
	@echo "make test       install everything, run the whole test suite"
	@echo "make fuzz N=..  random model-vs-RTL differential run of N transactions"
	@echo "make verilog    write $(BUILD)/vgic.v (LRS=$(LRS) CPUS=$(CPUS) BUS=$(BUS) ARCH=$(ARCH): v2 or v3)"
	@echo "make bench-hw   area/Fmax/latency tables;  make bench-sim  simulation speed"
	@echo "make bench-replay  vgic replay throughput and peak memory on a 1M-transaction trace"
	@echo "make bench-throughput  core-bus cycles per access, requests back to back"
	@echo "make board BOARD=icebreaker|ulx3s-85f   a bitstream (make program loads it)"
	@echo "make formal     prove the invariants with SymbiYosys"

# Python packages (pip), then Debian's Icarus Verilog and openFPGALoader (the
# ULX3S platform asks for it even to build) when missing and we are root.
setup:
	$(PIP) install -q -e '.[test,hw,board]'
	@command -v iverilog >/dev/null && command -v openFPGALoader >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q iverilog openfpgaloader; \
	  else echo "note: install Debian's 'iverilog' and 'openfpgaloader' for the Icarus and board tests"; fi; }

run: setup
	vgic replay examples/basic_virq.jsonl --engine both --compare --vcd $(BUILD)/example.vcd

test: setup
	$(PY) -m pytest -n $(JOBS) --dist loadfile

docs:
	vgic regs --update README.md

clean:
	rm -rf $(BUILD) .pytest_cache .hypothesis

# make verilog [LRS=4] [CPUS=1] [ARCH=v2|v3] [BUS=axi4lite|apb|wishbone|wishbone-pipelined,
# with ARCH=v3 also sysreg]: one self-contained Verilog file (sim/verilog.py;
# guide in docs/verilog.md).
verilog: setup
	vgic verilog --arch $(ARCH) --lrs $(LRS) --cpus $(CPUS) --bus $(BUS) -o $(BUILD)/vgic.v

# make fuzz N=200000 [LRS=4] [CPUS=4] [SEED=1] [ENGINE=fast] [PROFILE=kvm] [ARCH=v3]:
# model-vs-engine differential run (sim/fuzz.py). Without LRS on the command
# line, N is spread over 1, 4 and 64 LRs (ARCH=v3: 1, 4 and 16).
SEED    ?= 0
ENGINE  ?= rtl
PROFILE ?= mixed
FUZZ_LRS = $(if $(filter command line environment,$(origin LRS)),$(LRS),$(if $(filter v3,$(ARCH)),1$(comma)4$(comma)16,1$(comma)4$(comma)64))
comma := ,
fuzz: setup
	vgic fuzz --arch $(ARCH) -n $(N) --lrs $(FUZZ_LRS) --cpus $(CPUS) --seed $(SEED) --engine $(ENGINE) --profile $(PROFILE)

# make bench-hw [HW_ARGS="--lrs 4 --bus none --family ecp5"]: area/Fmax with
# YoWASP Yosys + nextpnr (bench/bench_hw.py, all configurations take about 7
# minutes on an idle 2-core machine), then cycle latencies in simulation
# (bench/bench_latency.py).
# make bench-sim [SIM_ARGS="--lrs 4 -n 20000"]: simulation speed (bench/bench_sim.py).
# Tables on stdout, JSON in $(BUILD)/; figures in docs/benchmarks.md.
HW_ARGS  ?=
SIM_ARGS ?=
bench-hw: setup
	nice $(PY) bench/bench_hw.py --build $(BUILD) $(HW_ARGS)
	$(PY) bench/bench_latency.py --json $(BUILD)/bench_latency.json

bench-sim: setup
	$(PY) bench/bench_sim.py --json $(BUILD)/bench_sim.json $(SIM_ARGS)

# make bench-replay [REPLAY_ARGS="--n 1000000 --rtl-n 20000"]: `vgic replay --compare`
# per engine on the KVM sample repeated (bench/bench_replay.py; about 2 minutes).
REPLAY_ARGS ?=
bench-replay: setup
	$(PY) bench/bench_replay.py --build $(BUILD) $(REPLAY_ARGS)

# make bench-throughput [LRS=4]: core-bus clock cycles per access with requests
# back to back (bench/bench_throughput.py, `vgic replay --engine fast --timing`).
bench-throughput: setup
	$(PY) bench/bench_throughput.py --build $(BUILD) --lrs $(LRS)

# make formal [FORMAL_ARGS="--fast" | "iar misr:lrs4" | "--mutant elrsr_ignores_eoi"]:
# every property group of formal/*.sby at every LR count (k-induction and
# covers, formal/run.py; per task: mode, depth, result, time). `make test`
# runs only the 1-LR tasks and the mutation check (tests/test_formal.py).
FORMAL_ARGS ?=
formal: setup
	nice $(PY) formal/run.py --build $(BUILD)/formal $(FORMAL_ARGS)

# -- FPGA boards (rtl/boards/, docs/boards.md) ---------------------------------
# make board BOARD=icebreaker|ulx3s-85f [BOARD_ARGS="--lrs 16 --seed 2"]: the
# bitstream in $(BUILD)/board/BOARD/ (its path printed last); fails when the
# post-route Fmax is below the design clock. About 15 s (iCEBreaker) and 2
# minutes (ULX3S 85F) on a 2-core machine.
# make program BOARD=...: load it with openFPGALoader (builds first when the
# bitstream is missing or stale); says so and fails when no board is on USB.
# make board-check: every board built, timing checked, resource/Fmax table
# (bench/bench_boards.py; tests/test_boards.py builds both boards too).
BOARD      ?= icebreaker
BOARD_ARGS ?=

.PHONY: board-setup board program board-check

board-setup:
	$(PIP) install -q -e '.[hw,board]'
	@command -v openFPGALoader >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q openfpgaloader; \
	  else echo "note: openFPGALoader missing; install Debian's 'openfpgaloader' to program boards"; fi; }

board: board-setup
	$(PY) -m vgic.rtl.boards.build $(BOARD) --build $(BUILD)/board/$(BOARD) $(BOARD_ARGS)

program: board-setup
	$(PY) -m vgic.rtl.boards.build $(BOARD) --build $(BUILD)/board/$(BOARD) --program $(BOARD_ARGS)

board-check: board-setup
	nice $(PY) bench/bench_boards.py --build $(BUILD)
