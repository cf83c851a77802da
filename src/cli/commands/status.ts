import type { Command } from '../command.js';
import { SetopsError } from '../../errors.js';

// Placeholder until the command lands; replaced by its owner.
const command: Command = {
  name: 'status',
  summary: '',
  help: 'Usage: setopsd status\n',
  options: {},
  async run() {
    throw new SetopsError('setopsd status is not implemented yet', { code: 'E_NOT_IMPLEMENTED' });
  },
};
export default command;
