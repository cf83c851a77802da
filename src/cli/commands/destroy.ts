import type { Command } from '../command.js';
import { SetopsError } from '../../errors.js';

// Placeholder until the command lands; replaced by its owner.
const command: Command = {
  name: 'destroy',
  summary: '',
  help: 'Usage: setopsd destroy\n',
  options: {},
  async run() {
    throw new SetopsError('setopsd destroy is not implemented yet', { code: 'E_NOT_IMPLEMENTED' });
  },
};
export default command;
