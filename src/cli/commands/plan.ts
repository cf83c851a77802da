import type { Command } from '../command.js';
import { SetopsError } from '../../errors.js';

// Placeholder until the command lands; replaced by its owner.
const command: Command = {
  name: 'plan',
  summary: '',
  help: 'Usage: setopsd plan\n',
  options: {},
  async run() {
    throw new SetopsError('setopsd plan is not implemented yet', { code: 'E_NOT_IMPLEMENTED' });
  },
};
export default command;
