/**
 * A signal (LEAK_AGENT_SIGNAL, off by default) that takes a gated snapshot. The agent must not take
 * over a signal the application uses: if the application already listens to it, the agent does not
 * listen, and if the application starts listening later, the agent steps back. Either way one clear
 * log line says so. (SIGUSR1 is refused at configuration: Node starts the inspector on it.)
 */
import { isMainThread } from 'node:worker_threads';
import type { AgentLogger } from '../log/logger';

export class SnapshotSignal {
  private readonly handler = (): void => this.onSignal();
  private readonly watcher = (event: string | symbol): void => {
    if (event === this.signal) {
      // Our own listener is being added: not the application's.
      if (this.adding) return;
      // 'newListener' fires before the application's listener is added. Removing ours right now
      // would drop the count to zero, and Node would close its signal handle and never reopen it for
      // the listener being added: the signal's default action (terminate) would come back.
      process.nextTick(() => this.release(`the application started listening to ${this.signal}; leak-agent stops listening to it and leaves it to the application`));
    }
  };
  private listening = false;
  private adding = false;

  constructor(
    private readonly signal: NodeJS.Signals,
    private readonly logger: AgentLogger,
    private readonly onSignal: () => void,
  ) {}

  install(): boolean {
    // Signals reach the main thread only; the main thread's agent owns the signal.
    if (!isMainThread) return false;
    if (process.listenerCount(this.signal) > 0) {
      this.logger.log('agent.error', {
        where: 'signal',
        signal: this.signal,
        message: `the application already listens to ${this.signal}; leak-agent does not take it over (LEAK_AGENT_SIGNAL ignored)`,
      });
      return false;
    }
    try {
      this.adding = true;
      process.on(this.signal, this.handler);
    } catch (err) {
      this.logger.log('agent.error', { where: 'signal', signal: this.signal, message: `cannot listen to ${this.signal}: ${(err as Error).message}` });
      return false;
    } finally {
      this.adding = false;
    }
    process.on('newListener', this.watcher);
    this.listening = true;
    this.logger.log('signal.listening', { signal: this.signal, action: 'gated heap snapshot', pid: process.pid });
    return true;
  }

  private release(message: string): void {
    if (!this.listening) return;
    this.uninstall();
    this.logger.log('agent.error', { where: 'signal', signal: this.signal, message });
  }

  uninstall(): void {
    if (!this.listening) return;
    this.listening = false;
    process.off(this.signal, this.handler);
    process.off('newListener', this.watcher);
  }
}
