// Preloaded into the service by bench/profile.ts (bench only): SIGUSR2 starts V8's CPU profiler, the next
// SIGUSR2 stops it and writes the profile to CPU_PROFILE_FILE — so the profile covers the load alone, not
// the start-up.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');

const session = new inspector.Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  session.post('Profiler.stop', (error, result) => {
    running = false;
    writeFileSync(process.env.CPU_PROFILE_FILE, JSON.stringify(error ? { error: String(error) } : result.profile));
  });
});
