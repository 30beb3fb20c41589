// Google sign-in with Firebase Auth, loaded only by the sign-in page (a separate chunk): the
// rest of the app talks to the API with the session cookie and never needs the SDK.
import { initializeApp, type FirebaseOptions } from "firebase/app";
import {
  browserPopupRedirectResolver,
  connectAuthEmulator,
  GoogleAuthProvider,
  inMemoryPersistence,
  initializeAuth,
  signInWithPopup,
  signOut,
  type Auth,
} from "firebase/auth";

interface HostingConfig extends FirebaseOptions {
  /** Only the local stack's init.json has it: where the Auth emulator listens. */
  authEmulatorUrl?: string;
}

let auth: Promise<Auth> | null = null;

async function load(): Promise<Auth> {
  // Firebase Hosting serves the project's web config here; the local stack serves its own.
  const response = await fetch("/__/firebase/init.json", { credentials: "same-origin" });
  if (!response.ok) throw new Error("The sign-in configuration could not be loaded.");
  const { authEmulatorUrl, ...config } = (await response.json()) as HostingConfig;
  const app = initializeApp(config);
  // The session cookie is what keeps the user signed in: Firebase keeps nothing in storage.
  const instance = initializeAuth(app, {
    persistence: inMemoryPersistence,
    popupRedirectResolver: browserPopupRedirectResolver,
  });
  if (authEmulatorUrl) connectAuthEmulator(instance, authEmulatorUrl, { disableWarnings: true });
  return instance;
}

/** Loads the config and Auth ahead of the click, so the popup opens within the user's gesture. */
export function prepare(): Promise<Auth> {
  auth = auth ?? load();
  auth.catch(() => (auth = null));
  return auth;
}

/** Opens Google's sign-in popup; resolves to a Firebase ID token for POST /api/session. */
export async function googleIdToken(): Promise<string> {
  auth = auth ?? load();
  let instance: Auth;
  try {
    instance = await auth;
  } catch (exc) {
    auth = null;
    throw exc;
  }
  const provider = new GoogleAuthProvider();
  provider.setCustomParameters({ prompt: "select_account" });
  const credential = await signInWithPopup(instance, provider);
  const token = await credential.user.getIdToken();
  await signOut(instance); // The server's session takes over from here.
  return token;
}
