/** The explorer's entry: read what the server offers, then render the app. */
import { render } from 'preact';
import { App, type Manifest } from './App.js';
import './style.css';

const manifest = (await (await fetch('/api/manifest')).json()) as Manifest;
render(<App manifest={manifest} />, document.getElementById('app')!);
