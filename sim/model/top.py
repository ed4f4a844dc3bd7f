# Ref: IHI0048B ch. 5; arch 1 (frames) and arch 1.4 (access rules)
"""VirtualInterface: the golden model's top. Wires the blocks and decodes the
two frames through the one register table (rtl/regs.py)."""
from ...rtl import regs
from .lr_bank import LRBank
from .vcpu import VCPU
from .hyp import Hyp
from .maintenance import Maintenance


class VirtualInterface:
    """Golden model of one CPU's GICv2 virtual interface.

    ``read(frame, offset)`` / ``write(frame, offset, value, strb=0xF)`` access
    a register ("GICH" or "GICV", byte offset in the frame); ``virq``, ``vfiq``
    and ``maint`` are the output line levels; ``forwarded`` lists the physical
    INTIDs whose deactivation an HW = 1 LR forwarded, oldest first.
    """

    def __init__(self, num_lrs=4, iidr=regs.IIDR_DEFAULT):
        self.num_lrs = regs.check_num_lrs(num_lrs)
        if isinstance(iidr, bool) or not isinstance(iidr, int) or not 0 <= iidr < 2**32:
            raise ValueError(f"iidr must be a 32-bit value, got {iidr!r}")
        self.lrs = LRBank(num_lrs)
        self.hyp = Hyp(num_lrs, iidr)
        self.vcpu = VCPU(self.lrs, self.hyp)
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

    def read(self, frame, offset):
        """A 32-bit read. Unmapped offsets, reserved names and WO registers read 0."""
        regs.core_addr(frame, offset)               # validates frame/offset
        reg, block = self._block(frame, offset)
        if reg is None or reg.access == "WO":
            return 0
        return block.read(reg) & 0xFFFF_FFFF

    def write(self, frame, offset, value, strb=0xF):
        """A 32-bit write. Writes with byte enables other than 0b1111 are
        ignored (registers are word-accessible only, arch 1.4 rule 1), as
        are writes to RO registers and unmapped offsets."""
        regs.core_addr(frame, offset)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"write value {value!r} is not a 32-bit value")
        if isinstance(strb, bool) or not isinstance(strb, int) or not 0 <= strb <= 0xF:
            raise ValueError(f"byte enables {strb!r} must be 4 bits")
        reg, block = self._block(frame, offset)
        if reg is None or reg.access == "RO" or strb != 0xF:
            return
        block.write(reg, value)

    # core byte-address view (the internal register bus map)
    def read_addr(self, addr):
        frame, offset = regs.frame_of(addr)
        return 0 if frame is None else self.read(frame, offset)

    def write_addr(self, addr, value, strb=0xF):
        frame, offset = regs.frame_of(addr)
        if frame is not None:
            self.write(frame, offset, value, strb)

    # output lines, computed once per state: a speed-up only (a differential
    # run asks for all three after every transaction), keyed on the whole state
    def _lines(self):
        v = self.vcpu
        state = (self.hyp.hcr, v.ctlr, v.pmr, v.bpr, v.abpr, v.apr, tuple(self.lrs.lr))
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
