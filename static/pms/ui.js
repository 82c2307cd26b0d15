// Toasts, the status line (data-testid="status") and the in-page confirm dialog.
import { h } from './dom.js';

/** Show a toast and mirror its text in the header status line. kind: 'ok' | 'error' | 'info'. */
export function toast(text, kind = 'ok') {
  const status = document.querySelector('[data-testid="status"]');
  if (status) {
    status.textContent = text;
    status.dataset.kind = kind;
  }
  const box = document.getElementById('pms-toasts');
  if (!box) return;
  if (kind !== 'error') box.querySelectorAll('.pms-toast-error').forEach((el) => el.remove());
  while (box.children.length >= 3) box.firstElementChild.remove();
  const el = h('div', { class: `pms-toast pms-toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(el);
  raise(box);
  setTimeout(() => { el.remove(); if (!box.children.length && box.matches(':popover-open')) box.hidePopover(); }, kind === 'error' ? 9000 : 3500);
}

/** Toasts live in a manual popover so they show above an open modal dialog (top layer). */
function raise(box) {
  if (typeof box.showPopover !== 'function') return;
  if (!box.hasAttribute('popover')) box.setAttribute('popover', 'manual');
  try {
    if (box.matches(':popover-open')) box.hidePopover();
    box.showPopover();
  } catch (e) { /* older browser: plain fixed-position box */ }
}

/** Progress text in the status line without a toast. */
export function status(text, kind = 'info') {
  const el = document.querySelector('[data-testid="status"]');
  if (el) {
    el.textContent = text;
    el.dataset.kind = kind;
  }
}

/** In-page confirm (not window.confirm). Resolves true for confirm-yes, false for confirm-no/Escape. */
export function confirmDialog(text, yesLabel = 'Yes') {
  const dlg = document.getElementById('pms-confirm-dialog');
  const yes = dlg.querySelector('[data-testid="confirm-yes"]');
  const no = dlg.querySelector('[data-testid="confirm-no"]');
  document.getElementById('pms-confirm-text').textContent = text;
  yes.textContent = yesLabel;
  return new Promise((resolve) => {
    const done = (answer) => {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    const onCancel = (e) => { e.preventDefault(); done(false); };
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    no.focus();
  });
}
