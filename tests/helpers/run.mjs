// Child processes for tests: bounded in time, killed (by PID, process group) even on failure.
import { spawn } from 'node:child_process';

/** Runs a command to completion (`input`: text for its stdin); resolves to `{ code, stdout, stderr }`. */
export function run(command, args, { cwd, env, timeout = 120_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true });
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeout} ms\n${stderr}`));
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Kills a detached child's whole process group; ignores one that is already gone. */
export function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
}
