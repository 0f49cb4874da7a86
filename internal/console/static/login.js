// Sign-in: posts the access key to /console/login and follows ?next=.
const form = document.getElementById('login-form');
const errorBox = document.getElementById('login-error');

function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/console/';
  // Only paths of the console itself: never another site.
  return next.startsWith('/console/') && !next.startsWith('//') ? next : '/console/';
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorBox.hidden = true;
  const button = document.getElementById('sign-in');
  button.disabled = true;
  try {
    const res = await fetch('/console/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        accessKeyId: document.getElementById('access-key-id').value.trim(),
        secretAccessKey: document.getElementById('secret-access-key').value,
      }),
    });
    if (res.ok) {
      location.assign(nextPath());
      return;
    }
    const body = await res.json().catch(() => ({}));
    errorBox.textContent = body.message || `Sign-in failed (HTTP ${res.status}).`;
  } catch (e) {
    errorBox.textContent = `The server cannot be reached: ${e.message}`;
  }
  errorBox.hidden = false;
  button.disabled = false;
});
