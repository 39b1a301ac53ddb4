// The metal-emu stage's gate (INKLING_REQUIRE_METAL_EMU=1 in CI turns a missing addon into a failure).
import { loadMetalEmuAddon } from '../../src/nn/backends/metal-emu/index.ts';
import { emulatorGate } from '../support/emulator-gate.ts';

export const metalEmu = emulatorGate('metal-emu', loadMetalEmuAddon);
export { seconds } from '../support/emulator-gate.ts';
