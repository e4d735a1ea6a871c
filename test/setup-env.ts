// Tests assert on results, not on Lambda logs; and the SDK's Node 20 support warning is silenced
// as in the simulator's entry points (see simulator/quiet.ts for why).
import '../simulator/quiet';
