# Ref: IHI0048B ch. 5; arch 1 (frames) and arch 1.4 (access rules); v3 1
"""VirtualInterface: the golden model's top. Wires the blocks and decodes the
registers through the one register table (rtl/regs.py for GICv2's frames,
rtl/sysregs.py for GICv3's system registers and their memory-mapped layout)."""
from ...rtl import regs, sysregs
from .lr_bank import LRBank
from .vcpu import VCPU
from .hyp import Hyp
from .maintenance import Maintenance


class VirtualInterface:
    """Golden model of one CPU's virtual interface, GICv2 (`arch="v2"`) or
    GICv3 (`arch="v3"`, with the V3Config parameters of rtl/sysregs.py:
    pri_bits, pre_bits, id_bits, rp_masked).

    ``read(frame, offset)`` / ``write(frame, offset, value, strb=0xF)`` access
    a 32-bit register word ("GICH"/"GICV", or GICv3's memory-mapped "ICH"/
    "ICV", byte offset in the frame); GICv3 also has ``read_sysreg(name)`` /
    ``write_sysreg(name, value)`` (64-bit, "ICH_LR0_EL2"). ``virq``, ``vfiq``
    and ``maint`` are the output line levels; ``forwarded`` lists the physical
    INTIDs whose deactivation an HW = 1 LR forwarded, oldest first.
    """

    def __init__(self, num_lrs=4, iidr=regs.IIDR_DEFAULT, arch="v2", **v3):
        if arch not in ("v2", "v3"):
            raise ValueError(f"arch must be 'v2' or 'v3', got {arch!r}")
        if arch == "v2" and v3:
            raise ValueError(f"{', '.join(v3)}: parameters of arch v3")
        self.arch = arch
        self.v3 = sysregs.V3Config(num_lrs, **v3) if arch == "v3" else None
        self.num_lrs = regs.check_num_lrs(num_lrs)
        if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
            raise ValueError(f"iidr must be a 32-bit value, got {iidr!r}")
        self.lrs = LRBank(num_lrs, self.v3)
        self.hyp = Hyp(num_lrs, iidr, self.v3)
        self.vcpu = VCPU(self.lrs, self.hyp, self.v3)
        self.maintenance = Maintenance(self.lrs, self.vcpu, self.hyp)
        self.hyp.lrs, self.hyp.vcpu, self.hyp.maintenance = self.lrs, self.vcpu, self.maintenance
        self._lines_state = self._lines_value = None

    def reset(self):
        self.lrs.reset()
        self.hyp.reset()
        self.vcpu.reset()

    def _block(self, frame, offset):
        reg = regs.decode(frame, offset)
        if reg is None or reg.access == "RES":
            return None, None
        return reg, (self.hyp if frame == "GICH" else self.vcpu)

    # -- GICv3 (v3 1.3, 1.4) ------------------------------------------------
    def _sysreg(self, name):
        reg = sysregs.lookup(name) if self.v3 is not None else None
        if reg is None:
            raise ValueError(f"{name!r} is no system register of this "
                             f"{'GICv3' if self.v3 else 'GICv2'} interface")
        return reg

    def _reachable(self, reg):
        """Implemented, and not an ICV register while the legacy GICv2 frame
        is live (v3 10: the VM's SRE = 0)."""
        if not reg.implemented(self.v3):
            return False
        return not (self.vcpu.legacy_live and reg.frame == "ICV" and reg.prefix != "ICC")

    def read_sysreg(self, name):
        """A 64-bit system-register read. An encoding this configuration lacks
        (v3 open point 17) and WO registers read 0. In a legacy build an ICV
        register is read at its address, by SRE, as the RTL's engines do
        (v3 10.3: with SRE = 0 the GICv2 frame answers there)."""
        reg = self._sysreg(name)
        if self.v3.legacy and reg.frame == "ICV":
            return sum(self.read(reg.frame, offset) << shift for offset, shift in reg.halves)
        return self._read_reg(reg)

    def _read_reg(self, reg):
        if not self._reachable(reg) or reg.access == "WO":
            return 0
        block = self.hyp if reg.frame == "ICH" else self.vcpu
        return block.read(reg) & (2**reg.width - 1)

    def write_sysreg(self, name, value):
        """A 64-bit system-register write (RO registers and encodings this
        configuration lacks: ignored; a legacy build's ICV registers at their
        address, as read_sysreg)."""
        reg = self._sysreg(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise ValueError(f"write value {value!r} is not a 64-bit value")
        if self.v3.legacy and reg.frame == "ICV":
            for offset, shift in reg.halves:
                self.write(reg.frame, offset, value >> shift & 0xFFFF_FFFF)
            return
        self._write_reg(reg, value)

    def _write_reg(self, reg, value):
        if self._reachable(reg) and reg.access != "RO":
            (self.hyp if reg.frame == "ICH" else self.vcpu).write(reg, value & (2**reg.width - 1))

    def _legacy_frame(self, frame, offset):
        """GICv3 legacy operation (v3 10): the GICv2 GICV frame, live while the
        VM's SRE = 0; the register, or None (RAZ/WI)."""
        if not self.v3.legacy:
            sysregs.core_addr(frame, offset)        # no GICV frame: its ValueError
        regs.core_addr(frame, offset)
        if not self.vcpu.legacy_live:
            return None
        reg = regs.decode(frame, offset)
        return None if reg is None or reg.access == "RES" else reg

    def _mm(self, frame, offset):
        """GICv3 memory-mapped layout: (register, half) or (None, 0)."""
        sysregs.core_addr(frame, offset)
        reg, half = sysregs.decode(frame, offset)
        if reg is None or not reg.implemented(self.v3) or 32 * half >= reg.width:
            return None, 0                          # RAZ/WI (high halves: RES0)
        return reg, half

    def _window(self, frame, offset):
        """Legacy builds: an access in the guest's window (frame "GICV" or
        "ICV": the same core addresses 0x2000-0x3FFF) answers as its core
        address does, by SRE (v3 10.3): the GICv2 frame while it is live,
        else the ICV registers; ICC_SRE_EL1's slot (0x128) always. Returns
        the (frame, offset) that answers; other builds and frames as given."""
        if self.v3 is None or not self.v3.legacy or frame not in ("GICV", "ICV"):
            return frame, offset
        (regs if frame == "GICV" else sysregs).core_addr(frame, offset)   # validates
        return self._frame_of(sysregs.FRAME_BASE["ICV"] + offset)

    def read(self, frame, offset):
        """A 32-bit read. Unmapped offsets, reserved names and WO registers read 0."""
        frame, offset = self._window(frame, offset)
        if self.v3 is not None and frame == "GICV":
            reg = self._legacy_frame(frame, offset)
            return 0 if reg is None or reg.access == "WO" else self.vcpu.read(reg) & 0xFFFF_FFFF
        if self.v3 is not None:
            reg, half = self._mm(frame, offset)
            return 0 if reg is None else (self._read_reg(reg) >> 32 * half) & 0xFFFF_FFFF
        regs.core_addr(frame, offset)               # validates frame/offset
        reg, block = self._block(frame, offset)
        if reg is None or reg.access == "WO":
            return 0
        return block.read(reg) & 0xFFFF_FFFF

    def write(self, frame, offset, value, strb=0xF):
        """A 32-bit write. Writes with byte enables other than 0b1111 are
        ignored (registers are word-accessible only, arch 1.4 rule 1), as
        are writes to RO registers and unmapped offsets."""
        frame, offset = self._window(frame, offset)
        legacy = self.v3 is not None and frame == "GICV"
        (regs if self.v3 is None or legacy else sysregs).core_addr(frame, offset)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"write value {value!r} is not a 32-bit value")
        if isinstance(strb, bool) or not isinstance(strb, int) or not 0 <= strb <= 0xF:
            raise ValueError(f"byte enables {strb!r} must be 4 bits")
        if legacy:
            reg = self._legacy_frame(frame, offset)
            if reg is not None and reg.access != "RO" and strb == 0xF:
                self.vcpu.write(reg, value)
            return
        if self.v3 is not None:
            reg, half = self._mm(frame, offset)
            if reg is not None and strb == 0xF and reg.access != "RO":
                # one half of a 64-bit register: the other half kept (AArch32's ICH_LR/ICH_LRC)
                old = self._read_reg(reg) if reg.width == 64 else 0
                keep = old & ~(0xFFFF_FFFF << 32 * half)
                self._write_reg(reg, keep | value << 32 * half)
            return
        reg, block = self._block(frame, offset)
        if reg is None or reg.access == "RO" or strb != 0xF:
            return
        block.write(reg, value)

    # core byte-address view (the internal register bus map)
    def _frame_of(self, addr):
        """(frame, offset) of a core byte address; in a legacy build while the
        GICv2 frame is live, the guest's window is that frame (ICC_SRE_EL1's
        word aside: v3 10)."""
        if self.v3 is None:
            return regs.frame_of(addr)
        frame, offset = sysregs.frame_of(addr)
        if frame == "ICV" and self.vcpu.legacy_live and sysregs.decode(frame, offset)[0] is not \
                sysregs.lookup("ICC_SRE_EL1"):
            return "GICV", offset
        return frame, offset

    def read_addr(self, addr):
        frame, offset = self._frame_of(addr)
        return 0 if frame is None else self.read(frame, offset)

    def write_addr(self, addr, value, strb=0xF):
        frame, offset = self._frame_of(addr)
        if frame is not None:
            self.write(frame, offset, value, strb)

    # output lines, computed once per state: a speed-up only (a differential
    # run asks for all three after every transaction), keyed on the whole state
    def _lines(self):
        v = self.vcpu
        state = (self.hyp.hcr, v.ctlr, v.pmr, v.bpr, v.abpr, v.apr, v.ap0, v.sre, tuple(self.lrs.lr))
        if state != self._lines_state:
            self._lines_state = state
            self._lines_value = (v.virq, v.vfiq, self.maintenance.maint)
        return self._lines_value

    @property
    def virq(self):
        return self._lines()[0]

    @property
    def vfiq(self):
        return self._lines()[1]

    @property
    def maint(self):
        return self._lines()[2]

    @property
    def forwarded(self):
        return self.hyp.forwarded

    @property
    def traps(self):
        """GICv3: ICH_HCR_EL2's trap controls, the `traps` output (v3 1.2)."""
        return self.hyp.traps
